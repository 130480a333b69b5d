"""The learning-rule families: what each layer's loss is, given the encoder's activities.

`objective.Objective` turns a family into gradients (which schedule, which gradient flow).
"""
