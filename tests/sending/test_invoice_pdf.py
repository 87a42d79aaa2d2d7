import io

import pytest
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


# Names, addresses and line items as clinics in Europe and the Americas type them: typographic
# quotes and dashes, accents, Polish, Greek and Cyrillic.
WORLD = [
    ("Aoife O’Brien", "Physiotherapy – first visit"),
    ("Łukasz Żółć", "Masaż sportowy „głęboki”"),
    ("Jürgen Weiß", "Krankengymnastik – Nachsorge"),
    ("Élodie Lefèvre-Dupré", "Séance d’ostéopathie « suivi »"),
    ("José Ñúñez", "Fisioterapia — revisión"),
    ("João Gonçalves", "Sessão de reabilitação — ombro"),
    ("Σοφία Παπαδοπούλου", "Φυσικοθεραπεία – αξιολόγηση"),
    ("Дмитрий Иванов", "Массаж спины — «курс»"),
]


@pytest.mark.parametrize(("name", "item"), WORLD)
def test_the_invoice_pdf_renders_every_script_a_clinic_writes(in_alice_clinic, name, item):
    in_alice_clinic.bob.name = name
    in_alice_clinic.bob.save()
    invoice = InvoiceFactory(
        client=in_alice_clinic.bob,
        number="ÉÑ-7",
        line_items=[{"description": item, "quantity": 1, "unit_price": "55.00"}],
        total="55.00",
    )
    text = PdfReader(io.BytesIO(invoice_pdf(invoice))).pages[0].extract_text()
    assert f"Billed to {name}" in text
    assert item in text
    assert "Invoice ÉÑ-7" in text
