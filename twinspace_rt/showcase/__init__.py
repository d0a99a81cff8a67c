"""The public showcase `/p/{slug}`: what a teacher administrator chose to show outside the room."""
