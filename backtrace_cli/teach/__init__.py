"""What teaching does with a worked solution: read answers files, mark them (follow-through,
named mistakes), quiz, exercise variants, homework sets and the class gradebook."""
