"""The unified per-layer contrastive loss (paper-spec section 2) and its parts."""
