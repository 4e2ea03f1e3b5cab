#!/usr/bin/env python3
"""Validates an OSCAL assessment-results JSON document with compliance-trestle's OSCAL model.

Usage: python3 tools/validate_oscal.py FILE

Exit codes: 0 valid; 1 invalid (the errors are printed); 2 usage or unreadable file;
3 the validator is not installed (`pip install compliance-trestle==5.2.0`).

Trestle's pydantic classes are generated from NIST's OSCAL metaschema and forbid unknown fields,
so they check field names, required fields, UUID and token patterns, date-times with time zones
and enumerations. On top of that this script checks what the model does not: the oscal-version
is one trestle supports, UUIDs are unique, and every related observation exists.
"""

import json
import re
import sys


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        from trestle.oscal import OSCAL_VERSION, OSCAL_VERSION_REGEX
        from trestle.oscal.assessment_results import Model
    except ImportError as error:
        print(f"SKIP: compliance-trestle is not installed ({error}); pip install compliance-trestle==5.2.0")
        return 3
    try:
        with open(argv[1], encoding="utf-8") as file:
            document = json.load(file)
    except (OSError, ValueError) as error:
        print(f"cannot read {argv[1]}: {error}", file=sys.stderr)
        return 2
    try:
        Model.model_validate(document)
    except Exception as error:  # pydantic's ValidationError lists every fault
        print(f"INVALID against trestle's OSCAL {OSCAL_VERSION} assessment-results model:\n{error}")
        return 1
    problems = []
    results = document["assessment-results"]
    version = results["metadata"]["oscal-version"]
    if not re.match(OSCAL_VERSION_REGEX, version):
        problems.append(f"oscal-version {version} is not one trestle supports ({OSCAL_VERSION_REGEX})")
    uuids = []

    def collect(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "uuid":
                    uuids.append(value)
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(results)
    duplicates = sorted({uuid for uuid in uuids if uuids.count(uuid) > 1})
    if duplicates:
        problems.append(f"duplicate uuids: {duplicates[:5]}")
    for result in results["results"]:
        observations = {observation["uuid"] for observation in result.get("observations", [])}
        for finding in result.get("findings", []):
            for related in finding.get("related-observations", []):
                if related["observation-uuid"] not in observations:
                    problems.append(f"finding {finding['title']} relates to a missing observation")
    if problems:
        print("INVALID:\n" + "\n".join(problems))
        return 1
    findings = sum(len(result.get("findings", [])) for result in results["results"])
    print(
        f"OK: valid OSCAL {version} assessment-results (trestle model {OSCAL_VERSION}): "
        f"{len(results['results'])} result(s), {findings} finding(s), {len(uuids)} uuids"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
