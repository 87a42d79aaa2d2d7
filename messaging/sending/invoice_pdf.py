from decimal import Decimal

from fpdf import FPDF

from clinic.models import Invoice


def _money(amount, currency: str) -> str:
    return f"{currency} {Decimal(amount):,.2f}"


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a PDF document, ready to attach."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=18)
    pdf.cell(0, 12, invoice.clinic.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
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
    pdf.set_font("Helvetica", style="B", size=12)
    pdf.cell(0, 8, f"Total {_money(invoice.total, invoice.currency)}", align="R")
    return bytes(pdf.output())
