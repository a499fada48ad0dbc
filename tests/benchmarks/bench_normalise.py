"""Benchmark: cost of normalising a person row, relative to parsing the same row from CSV.

Prints rows per second for each, and the ratio, which is what to compare between runs:
these machines are shared, so absolute times drift while the ratio stays comparable.
Run with ``make bench`` or ``.venv/bin/python tests/benchmarks/bench_normalise.py``.
"""

from __future__ import annotations

import csv
import io
import time

from cascade.domain.models import PersonEnrichmentRequest
from cascade.normalise.emails import normalise_email
from cascade.normalise.person import normalise_person_request
from cascade.normalise.phones import normalise_phone

ROWS = [
    ("Ada", "Quill", "Quillon Widgets GmbH & Co. KG", "https://www.quillon-widgets.de/kontakt", "", "DE"),
    ("DENZIL", "MACHIN", "Farrowby Logistics Ltd", "farrowby-logistics.co.uk", "", "GB"),
    ("", "", "Tesco PLC", "tesco.com", "https://uk.linkedin.com/pub/ada-quill/1b/2c3/4d5?trk=x", "GB"),
    ("Åsa", "Lindqvist", "Nordvik Energi AB", "nordvik-energi.se", "", "SE"),
    ("José", "Núñez García", "Brisa Consultores S.A. de C.V.", "http://www.brisa-consultores.mx", "", "MX"),
]
REPEAT = 400


def _csv_text() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["first_name", "last_name", "company_name", "company_domain", "linkedin_url", "country"])
    for _ in range(REPEAT):
        writer.writerows(ROWS)
    return buffer.getvalue()


def _time(label: str, function: object, count: int) -> float:
    assert callable(function)
    started = time.perf_counter()
    function()
    elapsed = time.perf_counter() - started
    print(f"{label:<34} {count / elapsed:>12,.0f} rows/s")
    return elapsed


def main() -> None:
    text = _csv_text()
    count = REPEAT * len(ROWS)

    def parse_csv() -> None:
        for _ in csv.DictReader(io.StringIO(text)):
            pass

    def normalise_rows() -> None:
        for row in csv.DictReader(io.StringIO(text)):
            request = PersonEnrichmentRequest.model_validate({key: value for key, value in row.items() if value})
            normalise_person_request(request)

    def normalise_contacts() -> None:
        for index in range(count):
            normalise_email(f"ADA.QUILL{index}@Quillon-Widgets.DE")
            normalise_phone("(201) 555-0123 x42", country="US")

    normalise_rows()  # warm caches (suffix list, name tables) before timing
    baseline = _time("csv.DictReader only", parse_csv, count)
    person = _time("parse + validate + normalise person", normalise_rows, count)
    contacts = _time("normalise email + phone", normalise_contacts, count)
    print(f"person normalisation costs {person / baseline:,.0f}x CSV parsing")
    print(f"email + phone normalisation costs {contacts / baseline:,.0f}x CSV parsing")


if __name__ == "__main__":
    main()
