package main

import (
	"bytes"

	"github.com/filecoin-project/go-address"
	bitfield "github.com/filecoin-project/go-bitfield"
	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/filecoin-project/go-state-types/builtin"
	miner "github.com/filecoin-project/go-state-types/builtin/v19/miner"
	verifreg "github.com/filecoin-project/go-state-types/builtin/v19/verifreg"
	"github.com/filecoin-project/go-state-types/proof"
	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"
)

// ParamsVector is one miner-method params value: Value in the shape of the TypeScript params type
// (camelCase, CIDs and addresses as strings, bytes as "0x" hex, bitfields as sorted sector numbers) and
// Bytes, its CBOR from the go-state-types builtin/v19 cbor_gen marshaller.
type ParamsVector struct {
	Method string         `json:"method"`
	Name   string         `json:"name"`
	Value  map[string]any `json:"value"`
	Bytes  string         `json:"bytes"`
}

type obj = map[string]any

func minerMethods() map[string]uint64 {
	m := builtin.MethodsMiner
	return map[string]uint64{
		"SubmitWindowedPoSt":     uint64(m.SubmitWindowedPoSt),
		"DeclareFaultsRecovered": uint64(m.DeclareFaultsRecovered),
		"ProveCommitAggregate":   uint64(m.ProveCommitAggregate),
		"PreCommitSectorBatch2":  uint64(m.PreCommitSectorBatch2),
		"ProveCommitSectors3":    uint64(m.ProveCommitSectors3),
		"ProveReplicaUpdates3":   uint64(m.ProveReplicaUpdates3),
	}
}

func cborOf(v cbg.CBORMarshaler) []byte {
	var buf bytes.Buffer
	check(v.MarshalCBOR(&buf))
	return buf.Bytes()
}

func sealedCid(seed byte) cid.Cid   { return must(commcid.ReplicaCommitmentV1ToCID(commR(seed))) }
func unsealedCid(seed byte) cid.Cid { return must(commcid.DataCommitmentV1ToCID(commD(seed))) }

func bf(set ...uint64) bitfield.BitField { return bitfield.NewFromSet(set) }

func setOf(b bitfield.BitField) []uint64 {
	out := must(b.All(1 << 20))
	if out == nil {
		return []uint64{}
	}
	return out
}

func byteList(list [][]byte) []string {
	out := []string{}
	for _, b := range list {
		out = append(out, x(b))
	}
	return out
}

func nullableInt[T ~int64](p *T) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// --- PreCommitSectorBatch2 ---

func precommitJSON(p miner.PreCommitSectorBatchParams2) obj {
	sectors := []obj{}
	for _, s := range p.Sectors {
		var unsealed any
		if s.UnsealedCid != nil {
			unsealed = s.UnsealedCid.String()
		}
		deals := []uint64{}
		for _, d := range s.DealIDs {
			deals = append(deals, uint64(d))
		}
		sectors = append(sectors, obj{
			"sealProof": int64(s.SealProof), "sectorNumber": uint64(s.SectorNumber), "sealedCid": s.SealedCID.String(),
			"sealRandEpoch": int64(s.SealRandEpoch), "dealIds": deals, "expiration": int64(s.Expiration),
			"unsealedCid": unsealed,
		})
	}
	return obj{"sectors": sectors}
}

func precommitVectors() []ParamsVector {
	d := unsealedCid(9)
	cases := []struct {
		name string
		p    miner.PreCommitSectorBatchParams2
	}{
		{"two 32GiB sectors, one with data", miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{
			{SealProof: abi.RegisteredSealProof_StackedDrg32GiBV1_1, SectorNumber: 42, SealedCID: sealedCid(1),
				SealRandEpoch: 4_123_456, DealIDs: nil, Expiration: 5_678_901, UnsealedCid: nil},
			{SealProof: abi.RegisteredSealProof_StackedDrg32GiBV1_1, SectorNumber: 43, SealedCID: sealedCid(2),
				SealRandEpoch: 4_123_456, DealIDs: []abi.DealID{}, Expiration: 5_678_901, UnsealedCid: &d},
		}}},
		{"one 2KiB devnet sector with deal ids", miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{
			{SealProof: abi.RegisteredSealProof_StackedDrg2KiBV1_1, SectorNumber: 0, SealedCID: sealedCid(3),
				SealRandEpoch: 0, DealIDs: []abi.DealID{1, 77, 1 << 40}, Expiration: 1_000_000, UnsealedCid: &d},
		}}},
		{"empty batch", miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{}}},
	}
	var out []ParamsVector
	for _, c := range cases {
		out = append(out, ParamsVector{Method: "PreCommitSectorBatch2", Name: c.name, Value: precommitJSON(c.p), Bytes: h(cborOf(&c.p))})
	}
	return out
}

// --- pieces (ProveCommitSectors3 and ProveReplicaUpdates3) ---

func piecesJSON(pieces []miner.PieceActivationManifest) []obj {
	out := []obj{}
	for _, p := range pieces {
		var key any
		if p.VerifiedAllocationKey != nil {
			key = obj{"client": uint64(p.VerifiedAllocationKey.Client), "id": uint64(p.VerifiedAllocationKey.ID)}
		}
		notify := []obj{}
		for _, n := range p.Notify {
			notify = append(notify, obj{"address": n.Address.String(), "payload": x(n.Payload)})
		}
		out = append(out, obj{"cid": p.CID.String(), "size": uint64(p.Size), "verifiedAllocationKey": key, "notify": notify})
	}
	return out
}

func samplePieces() []miner.PieceActivationManifest {
	market := must(address.NewIDAddress(5))
	return []miner.PieceActivationManifest{
		{CID: unsealedCid(20), Size: 16 << 30, VerifiedAllocationKey: &miner.VerifiedAllocationKey{Client: 1234, ID: verifreg.AllocationId(99)},
			Notify: []miner.DataActivationNotification{{Address: market, Payload: pattern(12, 0xa0, 1)}}},
		{CID: unsealedCid(21), Size: 8 << 30, VerifiedAllocationKey: nil, Notify: []miner.DataActivationNotification{}},
	}
}

func proveCommit3JSON(p miner.ProveCommitSectors3Params) obj {
	acts := []obj{}
	for _, a := range p.SectorActivations {
		acts = append(acts, obj{"sectorNumber": uint64(a.SectorNumber), "pieces": piecesJSON(a.Pieces)})
	}
	return obj{
		"sectorActivations": acts, "sectorProofs": byteList(p.SectorProofs), "aggregateProof": x(p.AggregateProof),
		"aggregateProofType": nullableInt(p.AggregateProofType), "requireActivationSuccess": p.RequireActivationSuccess,
		"requireNotificationSuccess": p.RequireNotificationSuccess,
	}
}

func proveCommit3Vectors() []ParamsVector {
	v2 := abi.RegisteredAggregationProof_SnarkPackV2
	cases := []struct {
		name string
		p    miner.ProveCommitSectors3Params
	}{
		{"two sectors, one proof each, one with pieces", miner.ProveCommitSectors3Params{
			SectorActivations: []miner.SectorActivationManifest{
				{SectorNumber: 42, Pieces: []miner.PieceActivationManifest{}},
				{SectorNumber: 43, Pieces: samplePieces()},
			},
			SectorProofs:   [][]byte{pattern(192, 1, 7), pattern(192, 2, 11)},
			AggregateProof: []byte{}, AggregateProofType: nil,
			RequireActivationSuccess: true, RequireNotificationSuccess: false,
		}},
		{"aggregated", miner.ProveCommitSectors3Params{
			SectorActivations: []miner.SectorActivationManifest{
				{SectorNumber: 100, Pieces: []miner.PieceActivationManifest{}},
				{SectorNumber: 101, Pieces: []miner.PieceActivationManifest{}},
			},
			SectorProofs:   [][]byte{},
			AggregateProof: pattern(300, 9, 13), AggregateProofType: &v2,
			RequireActivationSuccess: false, RequireNotificationSuccess: true,
		}},
	}
	var out []ParamsVector
	for _, c := range cases {
		out = append(out, ParamsVector{Method: "ProveCommitSectors3", Name: c.name, Value: proveCommit3JSON(c.p), Bytes: h(cborOf(&c.p))})
	}
	return out
}

// --- ProveCommitAggregate ---

func proveCommitAggregateVectors() []ParamsVector {
	p := miner.ProveCommitAggregateParams{SectorNumbers: bf(100, 101, 102, 103, 104, 105, 200, 4096), AggregateProof: pattern(400, 5, 3)}
	return []ParamsVector{{Method: "ProveCommitAggregate", Name: "eight sectors", Bytes: h(cborOf(&p)),
		Value: obj{"sectorNumbers": setOf(p.SectorNumbers), "aggregateProof": x(p.AggregateProof)}}}
}

// --- SubmitWindowedPoSt ---

func windowPoStVectors() []ParamsVector {
	cases := []struct {
		name string
		p    miner.SubmitWindowedPoStParams
	}{
		{"two partitions, one with skipped sectors", miner.SubmitWindowedPoStParams{
			Deadline: 3,
			Partitions: []miner.PoStPartition{
				{Index: 0, Skipped: bf()},
				{Index: 1, Skipped: bf(2350, 2400, 2401)},
			},
			Proofs:           []proof.PoStProof{{PoStProof: abi.RegisteredPoStProof_StackedDrgWindow32GiBV1_1, ProofBytes: pattern(192, 3, 5)}},
			ChainCommitEpoch: 4_200_000,
			ChainCommitRand:  abi.Randomness(pattern(32, 0x42, 9)),
		}},
		{"2KiB devnet, deadline 47", miner.SubmitWindowedPoStParams{
			Deadline:         47,
			Partitions:       []miner.PoStPartition{{Index: 0, Skipped: bf()}},
			Proofs:           []proof.PoStProof{{PoStProof: abi.RegisteredPoStProof_StackedDrgWindow2KiBV1_1, ProofBytes: pattern(192, 0, 1)}},
			ChainCommitEpoch: 120,
			ChainCommitRand:  abi.Randomness(pattern(32, 7, 7)),
		}},
	}
	var out []ParamsVector
	for _, c := range cases {
		parts := []obj{}
		for _, p := range c.p.Partitions {
			parts = append(parts, obj{"index": p.Index, "skipped": setOf(p.Skipped)})
		}
		proofs := []obj{}
		for _, p := range c.p.Proofs {
			proofs = append(proofs, obj{"postProof": int64(p.PoStProof), "proofBytes": x(p.ProofBytes)})
		}
		value := obj{"deadline": c.p.Deadline, "partitions": parts, "proofs": proofs,
			"chainCommitEpoch": int64(c.p.ChainCommitEpoch), "chainCommitRand": x(c.p.ChainCommitRand)}
		out = append(out, ParamsVector{Method: "SubmitWindowedPoSt", Name: c.name, Value: value, Bytes: h(cborOf(&c.p))})
	}
	return out
}

// --- DeclareFaultsRecovered ---

func recoveredVectors() []ParamsVector {
	p := miner.DeclareFaultsRecoveredParams{Recoveries: []miner.RecoveryDeclaration{
		{Deadline: 0, Partition: 0, Sectors: bf(1, 2, 3, 10)},
		{Deadline: 12, Partition: 2, Sectors: bf(5000)},
	}}
	recs := []obj{}
	for _, r := range p.Recoveries {
		recs = append(recs, obj{"deadline": r.Deadline, "partition": r.Partition, "sectors": setOf(r.Sectors)})
	}
	return []ParamsVector{{Method: "DeclareFaultsRecovered", Name: "two partitions", Value: obj{"recoveries": recs}, Bytes: h(cborOf(&p))}}
}

// --- ProveReplicaUpdates3 ---

func replicaUpdateVectors() []ParamsVector {
	p := miner.ProveReplicaUpdates3Params{
		SectorUpdates: []miner.SectorUpdateManifest{
			{Sector: 42, Deadline: 7, Partition: 0, NewSealedCID: sealedCid(30), Pieces: samplePieces()},
			{Sector: 43, Deadline: 7, Partition: 1, NewSealedCID: sealedCid(31), Pieces: samplePieces()[1:]},
		},
		SectorProofs:               [][]byte{pattern(1920, 4, 1), pattern(1920, 5, 3)},
		AggregateProof:             []byte{},
		UpdateProofsType:           abi.RegisteredUpdateProof_StackedDrg32GiBV1,
		AggregateProofType:         nil,
		RequireActivationSuccess:   true,
		RequireNotificationSuccess: true,
	}
	updates := []obj{}
	for _, u := range p.SectorUpdates {
		updates = append(updates, obj{"sector": uint64(u.Sector), "deadline": u.Deadline, "partition": u.Partition,
			"newSealedCid": u.NewSealedCID.String(), "pieces": piecesJSON(u.Pieces)})
	}
	value := obj{
		"sectorUpdates": updates, "sectorProofs": byteList(p.SectorProofs), "aggregateProof": x(p.AggregateProof),
		"updateProofsType": int64(p.UpdateProofsType), "aggregateProofType": nullableInt(p.AggregateProofType),
		"requireActivationSuccess": p.RequireActivationSuccess, "requireNotificationSuccess": p.RequireNotificationSuccess,
	}
	return []ParamsVector{{Method: "ProveReplicaUpdates3", Name: "two snapped sectors", Value: value, Bytes: h(cborOf(&p))}}
}

func paramsVectors() []ParamsVector {
	var out []ParamsVector
	out = append(out, precommitVectors()...)
	out = append(out, proveCommit3Vectors()...)
	out = append(out, proveCommitAggregateVectors()...)
	out = append(out, windowPoStVectors()...)
	out = append(out, recoveredVectors()...)
	out = append(out, replicaUpdateVectors()...)
	return out
}
