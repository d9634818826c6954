package orgd

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// APIKeyPrefix starts every API key, so that keys are easy to recognise in
// configuration files and by secret scanners.
const APIKeyPrefix = "orgd_"

// apiKeyVisible is how many leading characters of a key are stored in clear
// so that people can tell their keys apart.
const apiKeyVisible = len(APIKeyPrefix) + 8

// newSecret returns prefix followed by 256 random bits in URL-safe base64.
func newSecret(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("orgd: no randomness: %v", err)) // crypto/rand never fails on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSecret is the one-way form in which tokens and API keys are stored and
// looked up. The secrets carry 256 random bits, so a fast hash is safe.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Box encrypts invitation tokens under the server key (AES-256-GCM), so that
// the Elastic API can list them to administrators while a copy of the
// database alone reveals none.
type Box struct {
	aead cipher.AEAD
	key  []byte // the server key, for DeriveKey
}

// KeySize is the length of the server key in bytes.
const KeySize = 32

// NewBox returns a Box for a KeySize-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("the server key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, key: append([]byte(nil), key...)}, nil
}

// DeriveKey returns a KeySize-byte key for one purpose, derived from the
// server key with HKDF-SHA256 (purpose is the info): keys for different
// purposes are independent of each other and of the sealing key, and none
// reveals the server key.
func (b *Box) DeriveKey(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, b.key, nil, purpose, KeySize)
	if err != nil {
		panic(fmt.Sprintf("orgd: derive key: %v", err)) // only lengths over 255 hashes fail
	}
	return k
}

// Seal encrypts plaintext bound to context (the ciphertext cannot be moved to
// another context, such as another invitation's row).
func (b *Box) Seal(plaintext, context string) string {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("orgd: no randomness: %v", err))
	}
	return base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context)))
}

// Open decrypts what Seal produced for the same context.
func (b *Box) Open(sealed, context string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("sealed value is malformed")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", errors.New("sealed value does not open with this server key")
	}
	return string(plain), nil
}
