"""The `xlner_export_bwe` callback: writes the space learned by `xlner_multitask_bwe` at the end."""
import logging
import os
from typing import Any, Dict, Optional

from allennlp.common.checks import ConfigurationError
from allennlp.training.callbacks.callback import TrainerCallback

logger = logging.getLogger(__name__)


@TrainerCallback.register("xlner_export_bwe")
class ExportBweCallback(TrainerCallback):
    """
    At the end of training, exports the model's bilingual space (`MultitaskBweTagger.export`):
    `<serialization_dir>/<directory>/<language>.npy` + `.vocab` per language and the identity
    alignment artifact `<target>-<source>`, ready for `xlner_aligned_embedding`.

    Registered as a `TrainerCallback` with name "xlner_export_bwe".

    # Parameters

    directory : `str`, optional (default=`"bwe"`)
        Relative to the serialization directory.
    """

    def __init__(self, serialization_dir: str, directory: str = "bwe") -> None:
        super().__init__(serialization_dir)
        self._directory = os.path.join(serialization_dir, directory)

    def on_end(
        self, trainer: Any, metrics: Optional[Dict[str, Any]] = None, epoch: Optional[int] = None,
        is_primary: bool = True, **kwargs,
    ) -> None:
        if not is_primary:
            return
        model = trainer.model
        if not hasattr(model, "export"):
            raise ConfigurationError(
                f"xlner_export_bwe: the model {type(model).__name__} has no learned space to export"
            )
        paths = model.export(self._directory)
        logger.info("xlner_export_bwe: wrote %s", ", ".join(f"{k} {v}" for k, v in paths.items()))
