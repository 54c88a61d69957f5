# frontend.cmake: the front end library (placeholder until the front end lands).
