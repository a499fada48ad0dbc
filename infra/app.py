"""The CDK app: ``cdk.json`` runs this module. ``make package`` builds the dependencies layer first."""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from cascade.settings import Settings
from infra.stack import CascadeStack

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEPENDENCIES_DIR = REPOSITORY_ROOT / ".build" / "lambda-dependencies"
STACK_NAME = "Cascade"


def build_app(*, dependencies_dir: Path | None = None, outdir: str | None = None) -> cdk.App:
    """Build the app with cdk-nag's AWS Solutions checks attached; synthesis fails on any finding."""
    app = cdk.App(outdir=outdir)
    layer_dir = dependencies_dir or Path(app.node.try_get_context("dependencies_dir") or DEFAULT_DEPENDENCIES_DIR)
    if not layer_dir.is_dir():
        raise SystemExit(f"dependencies layer directory {layer_dir} does not exist; run `make package` to build it")
    CascadeStack(
        app,
        STACK_NAME,
        dependencies_dir=layer_dir,
        settings=Settings(),
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
