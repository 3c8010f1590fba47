"""Analysis on top of evaluation: segments, bias audits, residuals, explanations, experiments."""
