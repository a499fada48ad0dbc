"""An API key's plan: its prices, its default provider order and its catch-all policy."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from cascade.domain.models import ProviderName, RequestedField
from cascade.domain.money import Money


class KeyPlan(BaseModel):
    """The billing and waterfall settings of one API key; a request's ``waterfall`` overrides the order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email_price: Money = Field(default=Decimal("0.20"), description="Price of one verified business email.")
    phone_price: Money = Field(default=Decimal("0.30"), description="Price of one verified direct-dial phone.")
    default_order: list[ProviderName] | None = Field(
        default=None, description="Providers to try, in this order; unset uses the service's default order."
    )
    accept_catch_all: bool = Field(
        default=False, description="Accept and bill emails on catch-all domains for every request of this key."
    )
    monthly_cap: Money | None = Field(default=None, description="Maximum billed per calendar month (UTC).")

    def price(self, field: RequestedField) -> Decimal:
        """Return the price of one verified ``field``."""
        return self.email_price if field is RequestedField.EMAIL else self.phone_price
