"""Issue 29: one rule for each thing, wherever it is entered. One phone rule (core.fields.parse_phone) for users,
households and suppliers; one spreadsheet reader (core.tables.read_table) for imports and price lists, which never
changes the csv module's limit for the whole process; one rule for Thai names (core.fields.thai_name)."""
from __future__ import annotations

import csv
import io

import pytest

from core.tables import Column, _split_csv, read_table


def test_reading_a_price_list_leaves_the_csv_modules_limit_as_it_was() -> None:
    import orders.price_list  # noqa: F401  (it used to raise the limit for every reader in the process)

    assert csv.field_size_limit() == 131_072
    rows, errors = orders.price_list.parse(
        "product,unit,category,pack_size,min_quantity,reference_price,delivery_fee,tiers\n"
        + "ปุ๋ย" + "ก" * 140_000 + ",กระสอบ,ปุ๋ย,1,0,950,0,0:900\n")
    assert rows == [] and [(e.line, e.column) for e in errors] == [(2, "product")]
    assert csv.field_size_limit() == 131_072


def test_a_price_list_with_thai_headers_and_a_title_row_is_read_by_the_one_reader() -> None:
    from orders.price_list import parse

    rows, errors = parse("\ufeffราคาจากร้านเจริญ ธ.ค.\nสินค้า,หน่วย,ขนาดบรรจุ,ราคาตลาด,ขั้นราคา\nปุ๋ยยูเรีย,กระสอบ,๑,950,0:900;20:880\n")
    assert errors == [] and [(r.line, r.product, r.pack_size) for r in rows] == [(3, "ปุ๋ยยูเรีย", 1)]
    _, missing = parse("product,unit\nx,y\n")
    assert [(e.line, e.problem) for e in missing] == [(1, "columns")]


@pytest.mark.parametrize("text", ['a,b\n1,"x,y"\n"q""q",3\r\n\n"multi\nline",z', 'a;b\n;\n"";"a"', '""\nx\n\n',
                                  'a,\n,\n"",""\n', '"x""",y', 'a"b,c\n', 'name\n"unclosed xx\n'])
def test_the_long_cell_reader_reads_as_the_csv_module_does(text: str) -> None:
    delimiter = ";" if ";" in text.splitlines()[0] else ","
    assert _split_csv(text, delimiter) == list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_a_cell_beyond_the_csv_limit_reaches_its_column_rule() -> None:
    table = read_table("x.csv", ("name,note\n" + "ก" * 200_000 + ",ok\n").encode(), [Column("name", (), True),
                                                                                   Column("note", ())])
    [(number, values)] = table.rows
    assert number == 2 and len(values["name"]) == 10_001 and values["note"] == "ok"


@pytest.mark.parametrize("typed", ["081-234-5678", "๐๘๑-๒๓๔-๕๖๗๘", "+66 81 234 5678", "081 234 5678"])
def test_one_phone_rule_for_users_and_households(typed: str) -> None:
    from core.fields import parse_phone

    assert parse_phone(typed) == "0812345678"
