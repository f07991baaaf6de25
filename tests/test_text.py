"""TextModel is refused at load, naming the model part and its line."""
from __future__ import annotations

import pytest

import portmodel
from portmodel.errors import UnsupportedError

DOC = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary><DataField name="doc" optype="categorical" dataType="string"/></DataDictionary>
<TextModel functionName="clustering" numberOfTerms="2" numberOfDocuments="1">
  <MiningSchema><MiningField name="doc"/></MiningSchema>
  <TextDictionary><Array n="2" type="string">alpha beta</Array></TextDictionary>
  <TextCorpus><TextDocument id="d1"/></TextCorpus>
  <DocumentTermMatrix><Matrix><Array n="2" type="real">1 0</Array></Matrix></DocumentTermMatrix>
</TextModel></PMML>"""


def test_text_model_is_refused_at_load():
    with pytest.raises(UnsupportedError, match="TextModel") as info:
        portmodel.load(DOC)
    assert info.value.element == "TextDictionary" and info.value.line == 5
