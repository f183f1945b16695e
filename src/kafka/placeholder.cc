// Temporary translation unit until this stage has sources.
