from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

from clinic.models import Invoice


def _money(amount, currency: str) -> str:
    return f"{currency} {Decimal(amount):,.2f}"


# DejaVu Sans (shipped beside this module, with its licence) covers the Latin, Greek and Cyrillic
# scripts clinics in Europe and the Americas write names, addresses and line items in; the PDF
# core fonts cover Latin-1 only ("Aoife O’Brien" with a typographic apostrophe, "Łukasz").
FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"


def _document() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font(FONT, fname=FONTS / "DejaVuSans.ttf")
    pdf.add_font(FONT, style="B", fname=FONTS / "DejaVuSans-Bold.ttf")
    return pdf


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a PDF document, ready to attach."""
    pdf = _document()
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.add_page()
    pdf.set_font(FONT, style="B", size=18)
    pdf.cell(0, 12, invoice.clinic.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 7, f"Invoice {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"Issued {invoice.issue_date:%d %B %Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"Billed to {invoice.client.name}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    with pdf.table(
        col_widths=(60, 12, 14, 14), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")
    ) as table:
        table.row(["Description", "Qty", "Unit price", "Amount"])
        for item in invoice.line_items:
            quantity = Decimal(str(item.get("quantity", 1)))
            unit = Decimal(str(item["unit_price"]))
            table.row(
                [
                    item["description"],
                    f"{quantity:g}",
                    _money(unit, invoice.currency),
                    _money(unit * quantity, invoice.currency),
                ]
            )
    pdf.ln(4)
    pdf.set_font(FONT, style="B", size=12)
    pdf.cell(0, 8, f"Total {_money(invoice.total, invoice.currency)}", align="R")
    return bytes(pdf.output())
