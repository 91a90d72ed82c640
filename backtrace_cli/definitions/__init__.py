"""One definition per thing that varies — activations, losses, optimizers, graph operations,
textbook notations — read by every stage, importing none of them."""
