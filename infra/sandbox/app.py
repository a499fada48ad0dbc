"""Start the whole provider sandbox: every vendor module over one directory, on loopback."""

from __future__ import annotations

from infra.sandbox.directory import Directory, default_directory
from infra.sandbox.server import RunningSandbox, VendorApi, serve
from infra.sandbox.vendors.apollo import ApolloSandbox
from infra.sandbox.vendors.brreg import BrregSandbox
from infra.sandbox.vendors.companies_house import CompaniesHouseSandbox
from infra.sandbox.vendors.findymail import FindymailSandbox
from infra.sandbox.vendors.gleif import GleifSandbox
from infra.sandbox.vendors.hunter import HunterSandbox
from infra.sandbox.vendors.leadmagic import LeadMagicSandbox
from infra.sandbox.vendors.lusha import LushaSandbox
from infra.sandbox.vendors.millionverifier import MillionVerifierSandbox
from infra.sandbox.vendors.neverbounce import NeverBounceSandbox
from infra.sandbox.vendors.peopledatalabs import PeopleDataLabsSandbox
from infra.sandbox.vendors.prospeo import ProspeoSandbox
from infra.sandbox.vendors.sec_edgar import SecEdgarSandbox
from infra.sandbox.vendors.twilio import TwilioSandbox
from infra.sandbox.vendors.zerobounce import ZeroBounceSandbox

DEFAULT_PORT = 8790


def vendor_apis(directory: Directory) -> list[VendorApi]:
    """One sandbox vendor per provider in the registry that speaks HTTP, and the four government registries."""
    return [
        HunterSandbox(directory),
        ProspeoSandbox(directory),
        ApolloSandbox(directory),
        LeadMagicSandbox(directory),
        FindymailSandbox(directory),
        PeopleDataLabsSandbox(directory),
        LushaSandbox(directory),
        ZeroBounceSandbox(directory),
        NeverBounceSandbox(directory),
        MillionVerifierSandbox(directory),
        TwilioSandbox(directory),
        *registry_apis(directory),
    ]


def registry_apis(directory: Directory) -> list[VendorApi]:
    """Build the four government registries: SEC EDGAR, Companies House, GLEIF and Brønnøysund."""
    return [
        SecEdgarSandbox(directory),
        CompaniesHouseSandbox(directory),
        GleifSandbox(directory),
        BrregSandbox(directory),
    ]


def start_sandbox(*, port: int = 0, seed: int = 11, directory: Directory | None = None) -> RunningSandbox:
    """Serve every vendor on 127.0.0.1; port 0 picks a free port."""
    return serve(vendor_apis(directory or default_directory()), port=port, seed=seed)
