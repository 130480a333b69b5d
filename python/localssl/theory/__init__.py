"""Theory lab: local versus backprop gradients in deep linear (and ReLU) networks.

Reproduces the gradient-alignment analyses of Wu et al. (ICML 2026), spec sections 3 and 11:
per-layer contrastive losses, B at its optimum, and the cosine between the local
(gradient-blocked) update and the backprop update. `run.run_experiment` is the entry point.
"""
