"""The project journal: posts, comments, likes, pins, review of pupils' posts, live pushes."""
