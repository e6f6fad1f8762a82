"""data-leakage: information from the data a model is evaluated on reaching its training or its selection."""
from .multi_test import MultiTestLeakage
from .overlap import OverlapLeakage
from .preprocessing import PreprocessingLeakage

RULES = (PreprocessingLeakage, OverlapLeakage, MultiTestLeakage)
