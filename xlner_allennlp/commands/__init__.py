"""The ``allennlp xlner-*`` subcommands (thin layers over :mod:`xlner_allennlp.alignment`)."""
from xlner_allennlp.commands.align import XlnerAlign
from xlner_allennlp.commands.anchors import XlnerAnchors
from xlner_allennlp.commands.bli import XlnerBli
from xlner_allennlp.commands.map import XlnerMap
from xlner_allennlp.commands.translate import XlnerTranslate
from xlner_allennlp.commands.evaluate_language import XlnerEvaluate
from xlner_allennlp.commands.export_elmo import XlnerExportElmo
from xlner_allennlp.commands.plot import Plot
