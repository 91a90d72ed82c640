"""The computational graph model: expressions parsed into the registry's operations, its
spec, its engine (values, gradients, updates), and the rows of its worked solution."""
