"""Report which PFA library functions this engine implements, by namespace.

    python -m portmodel.pfa.coverage [path/to/libfcns.xml]

Totals come from the specification's function list (libfcns.xml, looked up in
../shared/conformance/pfa next to the project by default); without it, from the embedded table.
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from .lib import registry
from .library_sigs import LIBRARY

DEFAULT_XML = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "pfa" / "libfcns.xml"


def namespace(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else "(core)"


def spec_names(xml_path: Path | None = None) -> list[str]:
    path = xml_path or DEFAULT_XML
    if path.exists():
        root = ET.parse(path).getroot()
        return [f.get("name") for f in root.iter("fcn") if f.get("name")]
    return list(LIBRARY)


def report(xml_path: Path | None = None) -> dict[str, tuple[int, int, list[str]]]:
    """namespace -> (implemented, total, missing names)."""
    impl = registry()
    out: dict[str, tuple[int, int, list[str]]] = {}
    for name in spec_names(xml_path):
        ns = namespace(name)
        done, total, missing = out.get(ns, (0, 0, []))
        if name in impl:
            done += 1
        else:
            missing = missing + [name]
        out[ns] = (done, total + 1, missing)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rep = report(Path(argv[0]) if argv else None)
    width = max(len(ns) for ns in rep)
    all_done = all_total = 0
    for ns in sorted(rep):
        done, total, missing = rep[ns]
        all_done += done
        all_total += total
        line = f"{ns:<{width}}  {done:>3}/{total:<3}"
        if missing:
            line += "  missing: " + ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
        print(line)
    print(f"{'TOTAL':<{width}}  {all_done:>3}/{all_total:<3}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
