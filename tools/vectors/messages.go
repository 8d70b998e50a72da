package main

import (
	"io"

	"github.com/filecoin-project/go-address"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/filecoin-project/go-state-types/big"
	"github.com/filecoin-project/go-state-types/crypto"
	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"
)

// Message is Lotus's chain/types.Message (Lotus itself is not a pure-Go module, so its cbor_gen
// marshaller is written out here with the same cbor-gen primitives): a 10-field tuple, version 0.
type Message struct {
	Version    uint64
	To         address.Address
	From       address.Address
	Nonce      uint64
	Value      abi.TokenAmount
	GasLimit   int64
	GasFeeCap  abi.TokenAmount
	GasPremium abi.TokenAmount
	Method     abi.MethodNum
	Params     []byte
}

func writeInt(cw *cbg.CborWriter, v int64) {
	if v >= 0 {
		check(cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, uint64(v)))
	} else {
		check(cw.WriteMajorTypeHeader(cbg.MajNegativeInt, uint64(-v-1)))
	}
}

func (m *Message) MarshalCBOR(w io.Writer) error {
	cw := cbg.NewCborWriter(w)
	check(cw.WriteMajorTypeHeader(cbg.MajArray, 10))
	check(cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, m.Version))
	check(m.To.MarshalCBOR(cw))
	check(m.From.MarshalCBOR(cw))
	check(cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, m.Nonce))
	check(m.Value.MarshalCBOR(cw))
	writeInt(cw, m.GasLimit)
	check(m.GasFeeCap.MarshalCBOR(cw))
	check(m.GasPremium.MarshalCBOR(cw))
	check(cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, uint64(m.Method)))
	check(cw.WriteMajorTypeHeader(cbg.MajByteString, uint64(len(m.Params))))
	_, err := cw.Write(m.Params)
	return err
}

// Cid is Lotus's Message.Cid(): CIDv1, dag-cbor, blake2b-256 of the serialized message.
func (m *Message) Cid() cid.Cid { return must(abi.CidBuilder.Sum(cborOf(m))) }

// SignedMessage is Lotus's chain/types.SignedMessage: [Message, Signature].
type SignedMessage struct {
	Message   Message
	Signature crypto.Signature
}

func (s *SignedMessage) MarshalCBOR(w io.Writer) error {
	cw := cbg.NewCborWriter(w)
	check(cw.WriteMajorTypeHeader(cbg.MajArray, 2))
	check(s.Message.MarshalCBOR(cw))
	return s.Signature.MarshalCBOR(cw)
}

// Cid follows Lotus: a BLS-signed message is known by its unsigned message's CID (BLS signatures are
// aggregated per block), any other by the CID of the signed bytes.
func (s *SignedMessage) Cid() cid.Cid {
	if s.Signature.Type == crypto.SigTypeBLS {
		return s.Message.Cid()
	}
	return must(abi.CidBuilder.Sum(cborOf(s)))
}

type MessageVector struct {
	Name    string         `json:"name"`
	Network string         `json:"network"`
	Message map[string]any `json:"message"`
	Bytes   string         `json:"bytes"`
	Cid     string         `json:"cid"`
	msg     Message
}

func messageJSON(m Message, network address.Network) map[string]any {
	address.CurrentNetwork = network
	defer func() { address.CurrentNetwork = address.Mainnet }()
	return map[string]any{
		"version": m.Version, "to": m.To.String(), "from": m.From.String(), "nonce": m.Nonce,
		"value": m.Value.String(), "gasLimit": m.GasLimit, "gasFeeCap": m.GasFeeCap.String(),
		"gasPremium": m.GasPremium.String(), "method": uint64(m.Method), "params": x(m.Params),
	}
}

func paramsBytes(params []ParamsVector, method string) []byte {
	for _, p := range params {
		if p.Method == method {
			return must(hexBytes(p.Bytes))
		}
	}
	panic("no params vector for " + method)
}

func messageVectors(secp secpKey, bls blsKey, params []ParamsVector) []MessageVector {
	methods := minerMethods()
	miner := must(address.NewIDAddress(1000))
	eth := must(address.NewDelegatedAddress(10, must(hexBytes("d4c5fb16488aa48081296299d54b0c648c9333da"))))
	cases := []struct {
		name    string
		network address.Network
		m       Message
	}{
		{"PreCommitSectorBatch2 from the secp256k1 worker", address.Mainnet, Message{
			To: miner, From: secp.address, Nonce: 7, Value: big.MustFromString("200000000000000000"),
			GasLimit: 123_456_789, GasFeeCap: big.NewInt(100_000), GasPremium: big.NewInt(99_123),
			Method: abi.MethodNum(methods["PreCommitSectorBatch2"]), Params: paramsBytes(params, "PreCommitSectorBatch2"),
		}},
		{"SubmitWindowedPoSt on a testnet, large nonce", address.Testnet, Message{
			To: miner, From: secp.address, Nonce: 1 << 40, Value: big.Zero(),
			GasLimit: 987_654_321, GasFeeCap: big.MustFromString("1000000000"), GasPremium: big.NewInt(1),
			Method: abi.MethodNum(methods["SubmitWindowedPoSt"]), Params: paramsBytes(params, "SubmitWindowedPoSt"),
		}},
		{"plain send from the BLS key to an f410", address.Mainnet, Message{
			To: eth, From: bls.address, Nonce: 0, Value: big.MustFromString("1500000000000000000"),
			GasLimit: 0, GasFeeCap: big.Zero(), GasPremium: big.Zero(), Method: 0, Params: []byte{},
		}},
		{"ProveCommitSectors3 from the BLS key", address.Mainnet, Message{
			To: miner, From: bls.address, Nonce: 3, Value: big.Zero(),
			GasLimit: 50_000_000, GasFeeCap: big.NewInt(250_000), GasPremium: big.NewInt(50_000),
			Method: abi.MethodNum(methods["ProveCommitSectors3"]), Params: paramsBytes(params, "ProveCommitSectors3"),
		}},
	}
	var out []MessageVector
	for _, c := range cases {
		m := c.m
		b := cborOf(&m)
		network := "mainnet"
		if c.network == address.Testnet {
			network = "testnet"
		}
		out = append(out, MessageVector{Name: c.name, Network: network, Message: messageJSON(m, c.network), Bytes: h(b),
			Cid: m.Cid().String(), msg: m})
	}
	return out
}
