package openapi

// Update is the -update flag, for the tests of package openapi_test.
var Update = update
