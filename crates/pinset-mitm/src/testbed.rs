pub struct Testbed;
pub struct Endpoint;
