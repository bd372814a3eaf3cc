"""Where model versions registered before the scoring package existed find their class.

A registered model is a pickle that names `ForecasterModel` by its module path; versions logged earlier name
this module. New versions name `powercast.scoring.model`.
"""

from powercast.scoring.model import ForecasterModel

__all__ = ["ForecasterModel"]
