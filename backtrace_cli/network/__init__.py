"""The layered network model: its spec and weights, the engine (forward, δ, updates),
training, and the rows of its worked solution in the lecture's notation."""
