"""Helpers the typed-body tests share (test_pmml_objects_bodies1.py, ..._bodies2.py): the
conformance documents of a model type, the check that a model's body is typed, and a
mutated attribute that must be a DocumentError naming the element, attribute and line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import portmodel
from conformance_util import SHARED, cases
from portmodel.errors import DocumentError
from portmodel.pmml import objects
from portmodel.pmml.objects import Fragment

NS = "http://www.dmg.org/PMML-4_4"
#: object-model modules whose parts are not model bodies (their fields are checked elsewhere)
_NOT_BODY = ("schema", "models", "transformations", "verification")


def documents(model_type: str) -> list[Path]:
    """The conformance corpus documents that hold a model of model_type."""
    return sorted({SHARED / c["document"] for c in cases() if c["model_type"] == model_type})


def all_models(doc: objects.Document):
    """Every model of doc, nested ones included."""
    for m in doc.models:
        yield from m.models()


def assert_typed(source, model_type: str) -> list:
    """Every model of model_type in the document (a path or text) has no fragment body; its
    body parts' fields are fields the document knows. Returns those models."""
    doc = objects.read(source)
    known = {f.name for f in doc.data_dictionary.fields}
    if doc.transformation_dictionary is not None:
        known |= {d.name for d in doc.transformation_dictionary.derived_fields}
    found = []
    for m in all_models(doc):
        if m.tag != model_type:
            continue
        found.append(m)
        frags = [c for c in m.content if isinstance(c, Fragment) and c.tag != "Extension"]
        assert not frags, (getattr(source, "name", model_type), frags)
        local = known | {d.name for d in m.local_fields()}
        for part in m.children():
            if callable(getattr(part, "fields", None)) and \
                    type(part).__module__.split(".")[-1] not in _NOT_BODY:
                assert set(part.fields()) <= local, (getattr(source, "name", model_type),
                                                     part.XML.tag)
    assert found, (source if isinstance(source, Path) else model_type)
    return found


def mutate(text: str, element: str, attribute: str, value: str, nth: int = 0) -> str:
    """The nth element's attribute set to value (added when the element lacks it)."""
    found = list(re.finditer(rf"<{element}\b[^>]*>", text))
    assert len(found) > nth, element
    m = found[nth]
    tag = m.group(0)
    if re.search(rf'\s{attribute}="', tag):
        tag = re.sub(rf'(\s{attribute}=")[^"]*"', rf'\g<1>{value}"', tag)
    else:
        tag = f'<{element} {attribute}="{value}"' + tag[len(element) + 1:]
    return text[:m.start()] + tag + text[m.end():]


def assert_bad_attribute(source, element: str, attribute: str, value: str,
                         nth: int = 0) -> None:
    """source (a path or text) with element's attribute set to value fails to load (and, for
    a part that is not the model element, to read) with a DocumentError naming the element,
    the attribute, the value and the line."""
    text = source.read_text() if isinstance(source, Path) else source
    text = mutate(text, element, attribute, value, nth)
    line = text[:text.index(f'{attribute}="{value}"')].count("\n") + 1
    readers = [lambda t: portmodel.load(t.encode())]
    if not element.endswith("Model") and element != "Scorecard":
        readers.append(objects.read)     # a model's own attributes are text until compile
    for read in readers:
        with pytest.raises(DocumentError) as info:
            read(text)
        assert info.value.element == element and info.value.line == line
        assert attribute in str(info.value) and value in str(info.value)
