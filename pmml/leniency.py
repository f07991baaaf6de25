"""Document traits outside the PMML 4.4 letter that real producers write, and how load treats them.

Several exporters write documents that the schema or the specification's text does not allow, and
that the reference engines score anyway (the README's "Exchange notes" lists them). portmodel
reads them the way those engines do, and says so: by default every trait found gives one
``PortmodelWarning`` per document naming it and the lines where it occurs; with
``portmodel.load(..., strict=True)`` the first one is a ``DocumentError`` naming its line instead.
``portmodel validate`` reports each as an error.

The readers that meet a trait call ``Leniency.allow`` (reached through ``Ctx.leniency`` while
compiling); ``load_pmml`` calls ``warn`` once the document is compiled.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

from portmodel.errors import DocumentError, PortmodelWarning

#: trait key -> what portmodel does with it (the text of the warning and of the strict error)
TRAITS: dict[str, str] = {
    "undefined-mining-field": "a MiningField names a field that no DataField or DerivedField "
                              "defines and that nothing uses (ignored)",
    "empty-map-missing-to": "an empty mapMissingTo=\"\" (read as no replacement: a missing "
                            "value stays missing)",
    "node-without-predicate": "a tree Node without a predicate (read as <True/>)",
    "namespace": "the PMML namespace is not http://www.dmg.org/PMML-<major>_<minor> (the version "
                 "is read from the version attribute)",
    "no-namespace": "the document has no PMML namespace (the version is read from the version "
                    "attribute)",
    "layer-activation": "a NeuralNetwork without activationFunction, every NeuralLayer naming "
                        "its own (read with the layers' functions)",
    "embedded-model": "a PMML 3.x embedded <DecisionTree> or <Regression> in a Segment (read as "
                      "TreeModel or RegressionModel)",
    "integer-target": "an integer target field of a continuous prediction without castInteger "
                      "(the prediction is returned as a real number, not truncated)",
}

#: traits of valid PMML where portmodel's reading is a choice (validate: a warning, not an error)
CHOICES = frozenset({"integer-target"})


@dataclass
class Leniency:
    """The traits met while loading one document (trait -> (element, lines)), or, when strict,
    the refusal of the first one."""

    strict: bool = False
    found: "OrderedDict[str, tuple[str | None, list[int | None], list[str]]]" = field(
        default_factory=OrderedDict)

    def allow(self, trait: str, line: int | None, element: str | None, detail: str = "") -> None:
        """Record one occurrence of trait (or refuse it when strict)."""
        what = TRAITS[trait] + (f": {detail}" if detail else "")
        if self.strict:
            raise DocumentError(f"{what}; refused with strict=True", line=line, element=element)
        entry = self.found.setdefault(trait, (element, [], []))
        entry[1].append(line)
        if detail and detail not in entry[2]:
            entry[2].append(detail)

    def messages(self) -> list[tuple[str, int | None, str | None, str]]:
        """(trait, first line, element, one-line message) per trait found."""
        out = []
        for trait, (element, lines, details) in self.found.items():
            shown = [str(x) for x in lines if x is not None]
            where = ""
            if shown:
                more = ", ..." if len(shown) > 5 else ""
                where = f" (line{'s' if len(shown) > 1 else ''} {', '.join(shown[:5])}{more})"
            first = next((x for x in lines if x is not None), None)
            out.append((trait, first, element,
                        f"portmodel accepts [{trait}]: {TRAITS[trait]}"
                        f"{': ' + ', '.join(details[:5]) if details else ''}{where}; "
                        "strict=True refuses it"))
        return out

    def warn(self, stacklevel: int = 2) -> None:
        """One PortmodelWarning per trait found."""
        for _, _, _, message in self.messages():
            warnings.warn(message, PortmodelWarning, stacklevel=stacklevel)
