import io

from pypdf import PdfReader

from messaging.sending.invoice_pdf import invoice_pdf
from tests.factories import InvoiceFactory


def test_the_invoice_pdf_holds_number_items_and_total(in_alice_clinic):
    invoice = InvoiceFactory(
        client=in_alice_clinic.bob,
        number="AP-0042",
        line_items=[
            {"description": "Sports massage", "quantity": 2, "unit_price": "40.00"},
            {"description": "Taping", "quantity": 1, "unit_price": "7.50"},
        ],
        total="87.50",
    )
    text = PdfReader(io.BytesIO(invoice_pdf(invoice))).pages[0].extract_text()
    assert "Invoice AP-0042" in text
    assert "Alice Physio" in text
    assert "Billed to Bob Brown" in text
    assert "Sports massage" in text
    assert "GBP 80.00" in text
    assert "Total GBP 87.50" in text
