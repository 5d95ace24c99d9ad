package consensus

import "errors"

// CertCheck is one check of VerifyCertificate. Each failure wraps both
// ErrBadCertificate and the CertCheck, so a light client can say which
// check failed (errors.As) and callers that only care use errors.Is.
type CertCheck string

// The checks a certificate must pass, in DESIGN section 5's words.
const (
	CheckVotes     CertCheck = "votes"           // at least one vote
	CheckChain     CertCheck = "chain"           // header and votes of this genesis' chain, vote version
	CheckHeaderID  CertCheck = "header_id"       // the votes' source is the header's block, its slot within the epoch
	CheckEpochs    CertCheck = "epochs"          // target epoch = source epoch + 1
	CheckLink      CertCheck = "link"            // every vote for the same link
	CheckMiner     CertCheck = "voter_miner"     // every voter a genesis miner
	CheckDistinct  CertCheck = "distinct_voters" // no voter counted twice
	CheckSignature CertCheck = "signature"       // every vote signed by its voter
	CheckQuorum    CertCheck = "quorum"          // distinct voters reach the quorum
)

func (c CertCheck) Error() string { return "certificate check " + string(c) }

// FailedCheck names the certificate check err failed, or "" if err is not
// a certificate check failure.
func FailedCheck(err error) CertCheck {
	var c CertCheck
	if errors.As(err, &c) {
		return c
	}
	return ""
}
