"""What a continual learner adds to the task loss to protect old tasks (notebooks/01, 03).

``output``: von Oswald et al.'s output regularizer (Eq. 2), ``lookahead``: its candidate step,
``fast``: the same penalty from the hypernetwork head's Gram matrices, ``iwr``: its Fisher-weighted
form (Chandra et al. 2023).
"""

from .ewc import EWCPenalty, diagonal_fisher, mlp_fisher
from .fast import FastOutputRegularizer, supports_fast_regularizer
from .iwr import IWRPenalty, generated_fisher, iwr_regularizer
from .lookahead import adam_lookahead, has_fused_adam, lookahead_step, sgd_lookahead
from .output import output_regularizer, regularizer_targets
from .si import SynapticIntelligence
