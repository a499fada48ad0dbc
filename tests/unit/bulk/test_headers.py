"""Header mapping of real CRM and spreadsheet export header rows."""

from __future__ import annotations

import pytest

from cascade.bulk.headers import CanonicalField, HeaderMapping, NoUsableColumnsError, header_key, map_headers

F = CanonicalField


def _best(mapping: HeaderMapping) -> dict[str, str]:
    return mapping.describe()


def test_header_key_ignores_case_and_punctuation() -> None:
    assert header_key("E-mail Address") == header_key("email_address") == header_key("emailAddress")
    assert header_key("\ufeffPerson - Email (Work)") == "emailwork"
    assert header_key("Person - Name*") == "name"


def test_duplicate_headers_renamed_without_collision() -> None:
    mapping = map_headers(["First Name", "Email", "Email", "Company"])
    assert mapping.columns == ["First Name", "Email", "Email_2", "Company"]
    assert mapping.fields[F.EMAIL] == [1, 2]
    assert len(mapping.warnings) == 1
    assert "'Email_2'" in mapping.warnings[0]


def test_duplicate_rename_skips_existing_suffix() -> None:
    mapping = map_headers(["Email", "Email", "Email_2", "First Name", "Last Name"])
    assert mapping.columns == ["Email", "Email_3", "Email_2", "First Name", "Last Name"]
    assert len(set(mapping.columns)) == 5


def test_duplicate_rename_is_case_insensitive() -> None:
    mapping = map_headers(["EMAIL", "email", "Full Name"])
    assert mapping.columns == ["EMAIL", "email_2", "Full Name"]


def test_empty_headers_named_by_position() -> None:
    mapping = map_headers(["Full Name", "", "Company", ""])
    assert mapping.columns == ["Full Name", "Column_2", "Company", "Column_4"]


def test_hubspot_labels() -> None:
    header = [
        "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name",
        "Website URL", "Country/Region", "City", "Contact owner", "Lifecycle Stage", "Create Date",
        "Associated Company", "Email Domain", "Mobile Phone Number",
    ]  # fmt: skip
    mapping = map_headers(header)
    assert _best(mapping) == {
        "record_id": "Record ID",
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "Email",
        "phone": "Phone Number",
        "title": "Job Title",
        "company": "Company Name",
        "domain": "Website URL",
        "country": "Country/Region",
        "city": "City",
    }
    assert mapping.fields[F.COMPANY] == [6, 13]
    assert mapping.fields[F.DOMAIN] == [7, 14]
    assert mapping.fields[F.PHONE] == [4, 15]


def test_hubspot_internal_names() -> None:
    mapping = map_headers(["hs_object_id", "firstname", "lastname", "email", "phone", "jobtitle", "company", "website"])
    assert _best(mapping)["record_id"] == "hs_object_id"
    assert _best(mapping)["title"] == "jobtitle"
    assert _best(mapping)["domain"] == "website"


def test_salesforce_api_names() -> None:
    header = ["Id", "FirstName", "LastName", "Name", "Email", "MobilePhone", "Title", "Account.Name", "MailingCountry"]
    mapping = map_headers(header)
    assert _best(mapping) == {
        "record_id": "Id",
        "first_name": "FirstName",
        "last_name": "LastName",
        "email": "Email",
        "phone": "MobilePhone",
        "title": "Title",
        "company": "Account.Name",
        "country": "MailingCountry",
    }
    assert any("'Name' is not used" in warning or "'Name'" in warning for warning in mapping.warnings)


def test_salesforce_report_labels() -> None:
    header = [
        "Contact ID",
        "First Name",
        "Last Name",
        "Title",
        "Account Name",
        "Email",
        "Mailing City",
        "Mailing Country",
    ]
    mapping = map_headers(header)
    assert _best(mapping)["title"] == "Title"
    assert _best(mapping)["city"] == "Mailing City"
    assert _best(mapping)["record_id"] == "Contact ID"


def test_apollo_2024_columns() -> None:
    header = [
        "First Name", "Last Name", "Title", "Company", "Company Name for Emails", "Email", "Email Status",
        "First Phone", "Work Direct Phone", "Corporate Phone", "Person Linkedin Url", "Website",
        "Company Linkedin Url", "City", "Country", "Company City", "Company Country", "Apollo Contact Id",
    ]  # fmt: skip
    mapping = map_headers(header)
    assert _best(mapping)["company"] == "Company"
    assert mapping.fields[F.COMPANY] == [3, 4]
    assert _best(mapping)["linkedin"] == "Person Linkedin Url"
    assert mapping.fields[F.LINKEDIN] == [10]
    assert mapping.fields[F.PHONE] == [8, 7]
    assert mapping.fields[F.COUNTRY] == [14]
    assert _best(mapping)["record_id"] == "Apollo Contact Id"


def test_apollo_2026_columns() -> None:
    header = [
        "First Name", "Last Name", "Title", "Company Name", "Email", "Secondary Email", "Tertiary Email",
        "Work Direct Phone", "Mobile Phone", "Home Phone", "Company Phone", "Person Linkedin Url", "Website",
    ]  # fmt: skip
    mapping = map_headers(header)
    assert _best(mapping)["company"] == "Company Name"
    assert mapping.fields[F.EMAIL] == [4, 5, 6]
    assert mapping.fields[F.PHONE] == [7, 8, 9]


def test_sales_navigator_phantombuster() -> None:
    header = [
        "profileUrl", "fullName", "firstName", "lastName", "companyName", "title", "companyId", "companyUrl",
        "regularCompanyUrl", "location", "name", "vmid", "linkedInProfileUrl", "defaultProfileUrl",
    ]  # fmt: skip
    mapping = map_headers(header)
    assert mapping.fields[F.LINKEDIN] == [12, 13, 0]
    assert _best(mapping)["domain"] == "regularCompanyUrl"
    assert _best(mapping)["company"] == "companyName"
    assert _best(mapping)["record_id"] == "vmid"
    assert 7 not in mapping.fields.get(F.LINKEDIN, [])


def test_linkedin_connections() -> None:
    mapping = map_headers(["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"])
    assert _best(mapping)["linkedin"] == "URL"
    assert _best(mapping)["title"] == "Position"


def test_pipedrive_both_email_forms() -> None:
    export = map_headers(["Person - ID", "Person - Name", "Person - Email - Work", "Person - Email - Home",
                          "Person - Organization", "Person - Phone - Mobile", "Person - Job title"])  # fmt: skip
    assert _best(export) == {
        "record_id": "Person - ID",
        "full_name": "Person - Name",
        "email": "Person - Email - Work",
        "company": "Person - Organization",
        "phone": "Person - Phone - Mobile",
        "title": "Person - Job title",
    }
    assert export.fields[F.EMAIL] == [2, 3]
    template = map_headers(["Person - Name*", "Person - Email (Work)", "Organization - Name"])
    assert _best(template) == {"full_name": "Person - Name*", "email": "Person - Email (Work)",
                               "company": "Organization - Name"}  # fmt: skip


def test_zoho_labels_and_api_names() -> None:
    labels = map_headers(["Record Id", "First Name", "Last Name", "Email", "Secondary Email", "Mobile",
                          "Designation", "Account Name", "Account Name.id", "Mailing City"])  # fmt: skip
    assert _best(labels)["title"] == "Designation"
    assert labels.fields[F.COMPANY] == [7]
    api = map_headers(["id", "First_Name", "Last_Name", "Email", "Account_Name", "Website", "Mailing_Country"])
    assert _best(api)["company"] == "Account_Name"
    assert _best(api)["country"] == "Mailing_Country"


def test_dynamics_do_not_modify_columns() -> None:
    header = ["(Do Not Modify) Contact", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On",
              "Full Name", "Email", "Business Phone", "Job Title", "Company Name", "Address 1: City",
              "Address 1: Country/Region"]  # fmt: skip
    mapping = map_headers(header)
    assert _best(mapping) == {
        "record_id": "(Do Not Modify) Contact",
        "full_name": "Full Name",
        "email": "Email",
        "phone": "Business Phone",
        "title": "Job Title",
        "company": "Company Name",
        "city": "Address 1: City",
        "country": "Address 1: Country/Region",
    }


def test_outlook_title_is_salutation() -> None:
    header = ["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department", "Job Title",
              "Business City", "Business Country/Region", "Business Phone", "Mobile Phone", "E-mail Address",
              "E-mail 2 Address", "Web Page"]  # fmt: skip
    mapping = map_headers(header)
    assert mapping.fields[F.TITLE] == [7]
    assert any("salutation" in warning for warning in mapping.warnings)
    assert mapping.fields[F.EMAIL] == [12, 13]
    assert _best(mapping)["domain"] == "Web Page"


def test_outlook_com_order_without_job_title() -> None:
    mapping = map_headers(["First Name", "Middle Name", "Last Name", "Title", "Suffix", "Company", "E-mail Address"])
    assert F.TITLE not in mapping.fields


def test_outlook_german() -> None:
    mapping = map_headers(["Anrede", "Vorname", "Weitere Vornamen", "Nachname", "Suffix", "Firma", "Position"])
    assert _best(mapping) == {"first_name": "Vorname", "last_name": "Nachname", "company": "Firma", "title": "Position"}


def test_google_contacts_current() -> None:
    header = ["First Name", "Middle Name", "Last Name", "Name Prefix", "Organization Name", "Organization Title",
              "E-mail 1 - Label", "E-mail 1 - Value", "E-mail 2 - Value", "Phone 1 - Value", "Address 1 - City",
              "Address 1 - Country", "Website 1 - Value"]  # fmt: skip
    mapping = map_headers(header)
    assert mapping.fields[F.EMAIL] == [7, 8]
    assert _best(mapping)["company"] == "Organization Name"
    assert _best(mapping)["title"] == "Organization Title"
    assert _best(mapping)["domain"] == "Website 1 - Value"
    assert _best(mapping)["country"] == "Address 1 - Country"


def test_google_contacts_legacy() -> None:
    header = ["Name", "Given Name", "Additional Name", "Family Name", "Group Membership", "E-mail 1 - Type",
              "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value", "Organization 1 - Name",
              "Organization 1 - Title"]  # fmt: skip
    mapping = map_headers(header)
    assert _best(mapping)["first_name"] == "Given Name"
    assert _best(mapping)["last_name"] == "Family Name"
    assert _best(mapping)["email"] == "E-mail 1 - Value"
    assert _best(mapping)["phone"] == "Phone 1 - Value"
    assert _best(mapping)["company"] == "Organization 1 - Name"
    assert F.FULL_NAME not in mapping.fields


def test_close_leads_export() -> None:
    header = ["id", "display_name", "url", "primary_contact_name", "primary_contact_title",
              "primary_contact_primary_email", "primary_contact_other_emails", "primary_contact_primary_phone",
              "address_1_city", "address_1_country", "status_label"]  # fmt: skip
    mapping = map_headers(header)
    assert _best(mapping) == {
        "record_id": "id",
        "company": "display_name",
        "domain": "url",
        "full_name": "primary_contact_name",
        "title": "primary_contact_title",
        "email": "primary_contact_primary_email",
        "phone": "primary_contact_primary_phone",
        "city": "address_1_city",
        "country": "address_1_country",
    }
    assert mapping.fields[F.EMAIL] == [5, 6]


def test_mailchimp_audience() -> None:
    header = ["Email Address", "First Name", "Last Name", "Phone Number", "Company", "MEMBER_RATING", "CC",
              "REGION", "LEID", "TAGS"]  # fmt: skip
    mapping = map_headers(header)
    assert _best(mapping) == {
        "email": "Email Address",
        "first_name": "First Name",
        "last_name": "Last Name",
        "phone": "Phone Number",
        "company": "Company",
        "record_id": "LEID",
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Name", "E-mail", "Organization"], {"full_name": "Name", "email": "E-mail", "company": "Organization"}),
        (["full_name", "work_email", "company_website"],
         {"full_name": "full_name", "email": "work_email", "domain": "company_website"}),
        (["Contact Name", "Domain", "linkedin_url", "Telephone", "Role"],
         {"full_name": "Contact Name", "domain": "Domain", "linkedin": "linkedin_url", "phone": "Telephone",
          "title": "Role"}),
        (["FULL NAME", "EMAIL", "LINKEDIN PROFILE URL", "POSITION"],
         {"full_name": "FULL NAME", "email": "EMAIL", "linkedin": "LINKEDIN PROFILE URL", "title": "POSITION"}),
    ],
)  # fmt: skip
def test_generic_spreadsheet_headers(header: list[str], expected: dict[str, str]) -> None:
    assert _best(map_headers(header)) == expected


def test_no_usable_columns_lists_accepted_headers() -> None:
    with pytest.raises(NoUsableColumnsError) as caught:
        map_headers(["Email", "Phone", "Notes"])
    message = str(caught.value)
    assert "'Email', 'Phone', 'Notes'" in message
    assert "LinkedIn URL" in message
    assert "First Name" in message


def test_linkedin_alone_is_usable() -> None:
    assert map_headers(["LinkedIn URL"]).fields == {F.LINKEDIN: [0]}
