"""Every RFC 9497 test vector of the ristretto255-SHA512 suite (Appendix A.1), byte for byte.

The data below is copied from RFC 9497 Appendix A.1 (A.1.1 OPRF mode, A.1.2 VOPRF mode, A.1.3
POPRF mode). Each vector's blinds and proof randomness are injected, so blinded elements,
evaluated elements, proofs and outputs must all match; the key pair of each mode is derived from
the appendix's Seed and KeyInfo. RFC 9380 Appendix K.3 gives expand_message_xmd(SHA-512).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.pseudonyms.oprf import (
    Mode,
    OprfServer,
    PoprfServer,
    VoprfServer,
    blind,
    derive_key_pair,
    expand_message_xmd,
    finalize,
    finalize_batch,
    verify_batch,
)

# RFC 9497 Appendix A.1: the same Seed and KeyInfo for every mode.
SEED = bytes.fromhex("a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3")
KEY_INFO = bytes.fromhex("74657374206b6579")  # "test key"

# (skSm, pkSm) per mode; Appendix A.1.1 lists no pkSm for the OPRF mode.
KEYS = {
    Mode.OPRF: ("5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e", None),
    Mode.VOPRF: ("e6f73f344b79b379f1a0dd37e07ff62e38d9f71345ce62ae3a9bc60b04ccd909",
                 "c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e"),
    Mode.POPRF: ("145c79c108538421ac164ecbe131942136d5570b16d8bf41a24d4337da981e07",
                 "c647bef38497bc6ec077c22af65b696efa43bff3b4a1975a3e8e0a1c5a79d631"),
}

INPUT_1 = "00"
INPUT_2 = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
BLIND_1 = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"
BLIND_2 = "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e"
INFO = "7465737420696e666f"  # "test info"


@dataclass(frozen=True)
class Vector:
    mode: Mode
    inputs: list[str]
    blinds: list[str]
    blinded: list[str]
    evaluated: list[str]
    outputs: list[str]
    info: str = ""
    proof: str = ""
    proof_random: str = ""


VECTORS = [
    # A.1.1 OPRF mode, test vector 1, batch size 1.
    pytest.param(Vector(
        Mode.OPRF, [INPUT_1], [BLIND_1],
        ["609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c"],
        ["7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e"],
        ["527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
         "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6"],
    ), id="A.1.1 OPRF vector 1"),
    # A.1.1 OPRF mode, test vector 2, batch size 1.
    pytest.param(Vector(
        Mode.OPRF, [INPUT_2], [BLIND_1],
        ["da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418"],
        ["b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25"],
        ["f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
         "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73"],
    ), id="A.1.1 OPRF vector 2"),
    # A.1.2 VOPRF mode, test vector 1, batch size 1.
    pytest.param(Vector(
        Mode.VOPRF, [INPUT_1], [BLIND_1],
        ["863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945"],
        ["aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e"],
        ["b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7d"
         "a4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c"],
        proof="ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd06"
              "6d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d",
        proof_random="222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e",
    ), id="A.1.2 VOPRF vector 1"),
    # A.1.2 VOPRF mode, test vector 2, batch size 1.
    pytest.param(Vector(
        Mode.VOPRF, [INPUT_2], [BLIND_1],
        ["cc0b2a350101881d8a4cba4c80241d74fb7dcbfde4a61fde2f91443c2bf9ef0c"],
        ["60a59a57208d48aca71e9e850d22674b611f752bed48b36f7a91b372bd7ad468"],
        ["8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60"
         "356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6"],
        proof="401a0da6264f8cf45bb2f5264bc31e109155600babb3cd4e5af7d181a2c9dc0a"
              "67154fabf031fd936051dec80b0b6ae29c9503493dde7393b722eafdf5a50b02",
        proof_random="222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e",
    ), id="A.1.2 VOPRF vector 2"),
    # A.1.2 VOPRF mode, test vector 3, batch size 2: one proof for both elements.
    pytest.param(Vector(
        Mode.VOPRF, [INPUT_1, INPUT_2], [BLIND_1, BLIND_2],
        ["863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945",
         "90a0145ea9da29254c3a56be4fe185465ebb3bf2a1801f7124bbbadac751e654"],
        ["aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e",
         "cc5ac221950a49ceaa73c8db41b82c20372a4c8d63e5dded2db920b7eee36a2a"],
        ["b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7d"
         "a4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c",
         "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60"
         "356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6"],
        proof="cc203910175d786927eeb44ea847328047892ddf8590e723c37205cb74600b0a"
              "5ab5337c8eb4ceae0494c2cf89529dcf94572ed267473d567aeed6ab873dee08",
        proof_random="419c4f4f5052c53c45f3da494d2b67b220d02118e0857cdbcf037f9ea84bbe0c",
    ), id="A.1.2 VOPRF vector 3 (batch of 2)"),
    # A.1.3 POPRF mode, test vector 1, batch size 1.
    pytest.param(Vector(
        Mode.POPRF, [INPUT_1], [BLIND_1],
        ["c8713aa89241d6989ac142f22dba30596db635c772cbf25021fdd8f3d461f715"],
        ["1a4b860d808ff19624731e67b5eff20ceb2df3c3c03b906f5693e2078450d874"],
        ["ca688351e88afb1d841fde4401c79efebb2eb75e7998fa9737bd5a82a152406d"
         "38bd29f680504e54fd4587eddcf2f37a2617ac2fbd2993f7bdf45442ace7d221"],
        info=INFO,
        proof="41ad1a291aa02c80b0915fbfbb0c0afa15a57e2970067a602ddb9e8fd6b7100d"
              "e32e1ecff943a36f0b10e3dae6bd266cdeb8adf825d86ef27dbc6c0e30c52206",
        proof_random="222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e",
    ), id="A.1.3 POPRF vector 1"),
    # A.1.3 POPRF mode, test vector 2, batch size 1.
    pytest.param(Vector(
        Mode.POPRF, [INPUT_2], [BLIND_1],
        ["f0f0b209dd4d5f1844dac679acc7761b91a2e704879656cb7c201e82a99ab07d"],
        ["8c3c9d064c334c6991e99f286ea2301d1bde170b54003fb9c44c6d7bd6fc1540"],
        ["7c6557b276a137922a0bcfc2aa2b35dd78322bd500235eb6d6b6f91bc5b56a52"
         "de2d65612d503236b321f5d0bebcbc52b64b92e426f29c9b8b69f52de98ae507"],
        info=INFO,
        proof="4c39992d55ffba38232cdac88fe583af8a85441fefd7d1d4a8d0394cd1de7701"
              "8bf135c174f20281b3341ab1f453fe72b0293a7398703384bed822bfdeec8908",
        proof_random="222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e",
    ), id="A.1.3 POPRF vector 2"),
    # A.1.3 POPRF mode, test vector 3, batch size 2: one proof for both elements.
    pytest.param(Vector(
        Mode.POPRF, [INPUT_1, INPUT_2], [BLIND_1, BLIND_2],
        ["c8713aa89241d6989ac142f22dba30596db635c772cbf25021fdd8f3d461f715",
         "423a01c072e06eb1cce96d23acce06e1ea64a609d7ec9e9023f3049f2d64e50c"],
        ["1a4b860d808ff19624731e67b5eff20ceb2df3c3c03b906f5693e2078450d874",
         "aa1f16e903841036e38075da8a46655c94fc92341887eb5819f46312adfc0504"],
        ["ca688351e88afb1d841fde4401c79efebb2eb75e7998fa9737bd5a82a152406d"
         "38bd29f680504e54fd4587eddcf2f37a2617ac2fbd2993f7bdf45442ace7d221",
         "7c6557b276a137922a0bcfc2aa2b35dd78322bd500235eb6d6b6f91bc5b56a52"
         "de2d65612d503236b321f5d0bebcbc52b64b92e426f29c9b8b69f52de98ae507"],
        info=INFO,
        proof="43fdb53be399cbd3561186ae480320caa2b9f36cca0e5b160c4a677b8bbf4301"
              "b28f12c36aa8e11e5a7ef551da0781e863a6dc8c0b2bf5a149c9e00621f02006",
        proof_random="419c4f4f5052c53c45f3da494d2b67b220d02118e0857cdbcf037f9ea84bbe0c",
    ), id="A.1.3 POPRF vector 3 (batch of 2)"),
]


SERVERS: dict[Mode, type[OprfServer] | type[VoprfServer] | type[PoprfServer]] = {
    Mode.OPRF: OprfServer, Mode.VOPRF: VoprfServer, Mode.POPRF: PoprfServer,
}


def _hex(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


@pytest.mark.parametrize("mode", [Mode.OPRF, Mode.VOPRF, Mode.POPRF], ids=lambda m: m.name)
def test_derive_key_pair(mode: Mode) -> None:
    sk_hex, pk_hex = KEYS[mode]
    sk, pk = derive_key_pair(SEED, KEY_INFO, mode)
    assert sk.hex() == sk_hex
    if pk_hex is not None:
        assert pk.hex() == pk_hex


@pytest.mark.parametrize("v", VECTORS)
def test_vector(v: Vector) -> None:
    inputs, blinds = _hex(v.inputs), _hex(v.blinds)
    info = bytes.fromhex(v.info)
    server = SERVERS[v.mode].from_seed(SEED, KEY_INFO)
    if KEYS[v.mode][1] is not None:
        assert server.public_key.hex() == KEYS[v.mode][1]

    # Client: Blind with the vector's blind.
    blinded = [blind(x, mode=v.mode, unsafe_blind=r)[1] for x, r in zip(inputs, blinds, strict=True)]
    assert [b.hex() for b in blinded] == v.blinded

    # Server: BlindEvaluate of the whole batch, with the vector's proof randomness.
    proof = b""
    if isinstance(server, OprfServer):
        evaluated = server.blind_evaluate(blinded)
    elif isinstance(server, VoprfServer):
        evaluated, proof = server.evaluate_batch(
            blinded, unsafe_proof_randomness=bytes.fromhex(v.proof_random))
    else:
        evaluated, proof = server.evaluate_batch(
            blinded, info, unsafe_proof_randomness=bytes.fromhex(v.proof_random))
    assert [e.hex() for e in evaluated] == v.evaluated
    assert proof.hex() == v.proof

    # Client: VerifyProof on the batch (verifiable modes), then Finalize of each element.
    if v.mode == Mode.OPRF:
        outputs = [finalize(x, r, e, mode=v.mode) for x, r, e in zip(inputs, blinds, evaluated, strict=True)]
    else:
        verify_batch(server.public_key, blinded, evaluated, proof, info, mode=v.mode)
        outputs = finalize_batch(server.public_key, inputs, blinds, blinded, evaluated, proof, info, mode=v.mode)
    assert [o.hex() for o in outputs] == v.outputs

    # Evaluate: the server's own computation from the input in clear gives the same output.
    if isinstance(server, PoprfServer):
        direct = [server.evaluate_unblinded(x, info) for x in inputs]
    else:
        direct = [server.evaluate_unblinded(x) for x in inputs]
    assert [o.hex() for o in direct] == v.outputs


# RFC 9380 Appendix K.3: expand_message_xmd(SHA-512), DST "QUUX-V01-CS02-with-expander-SHA512-256".
@pytest.mark.parametrize("msg, length, expected", [
    pytest.param(b"", 0x20, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba", id="empty, 32"),
    pytest.param(b"abc", 0x20, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc", id="abc, 32"),
    pytest.param(b"abcdef0123456789", 0x20, "087e45a86e2939ee8b91100af1583c4938e0f5fc6c9db4b107b83346bc967f58",
                 id="abcdef0123456789, 32"),
    pytest.param(b"", 0x80,
                 "41b037d1734a5f8df225dd8c7de38f851efdb45c372887be655212d07251b921"
                 "b052b62eaed99b46f72f2ef4cc96bfaf254ebbbec091e1a3b9e4fb5e5b619d2e"
                 "0c5414800a1d882b62bb5cd1778f098b8eb6cb399d5d9d18f5d5842cf5d13d7e"
                 "b00a7cff859b605da678b318bd0e65ebff70bec88c753b159a805d2c89c55961", id="empty, 128"),
])
def test_expand_message_xmd_sha512(msg: bytes, length: int, expected: str) -> None:
    assert expand_message_xmd(msg, b"QUUX-V01-CS02-with-expander-SHA512-256", length).hex() == expected
