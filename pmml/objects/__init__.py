"""The PMML object model: frozen, typed values for a whole document, read from (upgraded) XML
by ``read`` and written back as PMML 4.4 by ``write``.

Data flows document -> object model -> compiled plan: ``portmodel.load`` reads the object model
once (``PMMLModel.document``), and the consumers (required inputs, ``describe()``,
verification, ``validate``) read it instead of the XML.
"""
from .complete import with_output_types
from .dictionary import DataDictionary, DataField, Value
from .document import Document
from .expressions import (EXPRESSIONS, Aggregate, Apply, Constant, Discretize, DiscretizeBin,
                          Expression, FieldColumnPair, FieldRef, Interval, Lag, LinearNorm,
                          MapValues, NormContinuous, NormDiscrete, TextIndex,
                          TextIndexNormalization)
from .header import Annotation, Application, Header, Timestamp
from .matrix import MatCell, Matrix
from .models import Model, Segment, Segmentation, VariableWeight
from .predicates import (PREDICATE_CLASSES, PREDICATES, CompoundPredicate, FalsePredicate,
                         Predicate, SimplePredicate, SimpleSetPredicate, TruePredicate)
from .neural import (Con, NeuralInput, NeuralInputs, NeuralLayer, NeuralOutput, NeuralOutputs,
                     Neuron)
from .nodes import Fragment, Node
from .regression import (CategoricalPredictor, NumericPredictor, PredictorTerm,
                         RegressionTable)
from .read import read, read_document, read_model
from .schema import MiningField, MiningSchema, Output, OutputField, Target, Targets, TargetValue
from .table import InlineTable, Row
from .tree import TreeNodes
from .transformations import (DefineFunction, DerivedField, LocalTransformations,
                              ParameterField, TransformationDictionary, dependencies,
                              derived_references)
from .verification import (Array, ContStats, DiscrStats, ModelStats, ModelVerification,
                           UnivariateStats, VerificationField, VerificationFields)
from .write import to_element, write
from . import clustering, general_regression, naive_bayes, svm  # noqa: E402 (typed bodies)

__all__ = [n for n in dir() if not n.startswith("_")]
