//! Certificate rules the client platforms enforce (not written yet).
