"""A project's pages: a menu tree of co-edited documents, drafts, visibility, live menu pushes."""
