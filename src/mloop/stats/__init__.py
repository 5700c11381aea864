"""Pure statistics shared by data validation, drift, monitoring and the validation gates."""
