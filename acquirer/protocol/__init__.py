"""The standards layer shared by terminal, host and simulators (stdlib + libraries only).

8583 link: `spec` (the POS field table as data), `codec` (encode/decode/sign),
`framing` (2-byte length frames), `messages` (requests, replies, layouts),
`fields` (sub-fields of 48/54/60/61), `transactions` (the transaction table),
`codes` (response codes), `tlv` (BER-TLV for field 55).
Crypto: `des`, `mac`, `keys`, `pinblock`, `cryptogram`.
Clearing: `clock` (the clearing day of a moment), `clearing_layouts`
(the fixed-width records), `statement` (reading and checking a merchant
statement), `fee_rounding` (the one fee rounding rule); in docs/clearing.md.
The wire contract is written up in docs/protocol.md.
"""
