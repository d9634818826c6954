package outbox

// InPgxTx is inPgxTx, for the tests of package outbox_test (internal/testdb,
// which they need, imports this package).
var InPgxTx = inPgxTx
