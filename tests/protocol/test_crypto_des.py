"""DES/3DES wrappers: published vectors, key lengths, parity, and the per-thread context cache."""
import threading

import pytest

from acquirer.protocol.des import (
    DesInputError,
    adjust_parity,
    des_decrypt,
    des_encrypt,
    random_key,
    tdes_cbc_encrypt,
    tdes_decrypt,
    tdes_encrypt,
)

K16 = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")


def test_single_des_classic_vector():
    # FIPS 81 / "Now is t" DES example: key 0123456789ABCDEF -> 3FA40E8A984D4815.
    key = bytes.fromhex("0123456789ABCDEF")
    assert des_encrypt(key, b"Now is t").hex().upper() == "3FA40E8A984D4815"
    assert des_decrypt(key, bytes.fromhex("3FA40E8A984D4815")) == b"Now is t"


def test_double_length_vector():
    # pyemv tools.encrypt_tdes_ecb docstring: K1K2 = 0123..3210, "12345678" -> 41D2FFBA3CDC15FE.
    assert tdes_encrypt(K16, b"12345678").hex().upper() == "41D2FFBA3CDC15FE"


def test_double_length_equals_triple_length_k1_k2_k1():
    data = bytes(range(32))
    assert tdes_encrypt(K16, data) == tdes_encrypt(K16 + K16[:8], data)
    assert tdes_decrypt(K16, tdes_encrypt(K16, data)) == data


def test_single_des_is_3des_with_equal_halves():
    key8 = bytes.fromhex("0123456789ABCDEF")
    assert des_encrypt(key8, b"12345678") == tdes_encrypt(key8 * 2, b"12345678")


def test_ecb_is_block_by_block_even_with_a_reused_context():
    # The cached context must not carry state from one call to the next.
    first = tdes_encrypt(K16, b"AAAAAAAABBBBBBBB")
    second = tdes_encrypt(K16, b"BBBBBBBB")
    assert first[8:] == second


def test_cbc_chains_blocks_and_restarts_each_call():
    data = bytes(range(24))
    once = tdes_cbc_encrypt(K16, data)
    assert tdes_cbc_encrypt(K16, data) == once
    assert once[:8] == tdes_encrypt(K16, data[:8])
    chained = bytes(a ^ b for a, b in zip(once[:8], data[8:16]))
    assert once[8:16] == tdes_encrypt(K16, chained)


def test_cbc_on_a_reused_context_equals_a_fresh_cipher_for_any_iv():
    # The per-key CBC context carries its last block from call to call; every
    # call must still equal a CBC started afresh with its own IV.
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    for data, iv in [(bytes(range(40)), bytes(8)), (b"12345678", b"ABCDEFGH"),
                     (bytes(range(40)), bytes(8)), (bytes(200), bytes.fromhex("0102030405060708"))]:
        fresh = Cipher(TripleDES(K16 + K16[:8]), modes.CBC(iv)).encryptor().update(data)
        assert tdes_cbc_encrypt(K16, data, iv) == fresh
        assert tdes_cbc_encrypt(K16, data, iv, transient=True) == fresh
    assert tdes_cbc_encrypt(K16, b"") == b""


def test_transient_keys_give_the_same_answers():
    data = bytes(range(32))
    assert tdes_encrypt(K16, data, transient=True) == tdes_encrypt(K16, data)
    assert tdes_encrypt(K16, b"12345678", transient=True).hex().upper() == "41D2FFBA3CDC15FE"


@pytest.mark.parametrize("length", [0, 7, 15, 17, 32])
def test_bad_key_length_is_named(length):
    with pytest.raises(DesInputError, match=f"got {length}"):
        tdes_encrypt(bytes(length), bytes(8))


def test_partial_block_is_refused():
    with pytest.raises(DesInputError, match="multiple of 8 bytes, got 5"):
        tdes_encrypt(K16, b"12345")


def test_single_des_needs_8_byte_key():
    with pytest.raises(DesInputError, match="got 16"):
        des_encrypt(K16, bytes(8))


def test_adjust_parity_makes_every_byte_odd():
    key = adjust_parity(bytes(range(16)))
    assert all(bin(b).count("1") % 2 == 1 for b in key)
    assert adjust_parity(K16) == K16  # already odd


@pytest.mark.parametrize("length", [8, 16, 24])
def test_random_key_has_odd_parity_and_distinct_parts(length):
    key = random_key(length)
    assert len(key) == length
    assert all(bin(b).count("1") % 2 == 1 for b in key)
    assert len({key[i : i + 8] for i in range(0, length, 8)}) == length // 8
    assert random_key(length) != key


def test_threads_get_their_own_contexts_and_the_same_answers():
    expected = tdes_encrypt(K16, bytes(range(64)))
    results: list[bytes] = []

    def work():
        for _ in range(200):
            results.append(tdes_encrypt(K16, bytes(range(64))))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 800
