// Security error codes (the Rust crate's SecurityError kinds, as stable peat::Error codes).
// The code strings are part of the contract; messages are for people.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "peat/common/result.hpp"

namespace peat::security {

namespace errc {
inline constexpr std::string_view kInvalidSignature = "INVALID_SIGNATURE";
inline constexpr std::string_view kChallengeExpired = "CHALLENGE_EXPIRED";
inline constexpr std::string_view kNonceMismatch = "NONCE_MISMATCH";
inline constexpr std::string_view kInvalidPublicKey = "INVALID_PUBLIC_KEY";
inline constexpr std::string_view kInvalidDeviceId = "INVALID_DEVICE_ID";
inline constexpr std::string_view kKeypairError = "KEYPAIR_ERROR";
inline constexpr std::string_view kPeerNotAuthenticated = "PEER_NOT_AUTHENTICATED";
inline constexpr std::string_view kAuthFailed = "AUTH_FAILED";
inline constexpr std::string_view kIoError = "IO_ERROR";
inline constexpr std::string_view kSerializationError = "SERIALIZATION_ERROR";
inline constexpr std::string_view kInternalError = "INTERNAL_ERROR";
inline constexpr std::string_view kPeerNotFound = "PEER_NOT_FOUND";
inline constexpr std::string_view kPermissionDenied = "PERMISSION_DENIED";
inline constexpr std::string_view kCertificateError = "CERTIFICATE_ERROR";
inline constexpr std::string_view kInvalidCertChain = "INVALID_CERT_CHAIN";
inline constexpr std::string_view kCertificateExpired = "CERTIFICATE_EXPIRED";
inline constexpr std::string_view kCertificateRevoked = "CERTIFICATE_REVOKED";
inline constexpr std::string_view kUserNotFound = "USER_NOT_FOUND";
inline constexpr std::string_view kUserExists = "USER_EXISTS";
inline constexpr std::string_view kInvalidCredential = "INVALID_CREDENTIAL";
inline constexpr std::string_view kInvalidMfa = "INVALID_MFA";
inline constexpr std::string_view kAccountLocked = "ACCOUNT_LOCKED";
inline constexpr std::string_view kAccountDisabled = "ACCOUNT_DISABLED";
inline constexpr std::string_view kAccountPending = "ACCOUNT_PENDING";
inline constexpr std::string_view kSessionNotFound = "SESSION_NOT_FOUND";
inline constexpr std::string_view kSessionExpired = "SESSION_EXPIRED";
inline constexpr std::string_view kUnsupportedAuth = "UNSUPPORTED_AUTH";
inline constexpr std::string_view kPasswordHashError = "PASSWORD_HASH_ERROR";
inline constexpr std::string_view kTotpError = "TOTP_ERROR";
inline constexpr std::string_view kEncryptionError = "ENCRYPTION_ERROR";
inline constexpr std::string_view kDecryptionError = "DECRYPTION_ERROR";
inline constexpr std::string_view kKeyExchangeError = "KEY_EXCHANGE_ERROR";
inline constexpr std::string_view kNoGroupKey = "NO_GROUP_KEY";
inline constexpr std::string_view kKeyGenerationMismatch = "KEY_GENERATION_MISMATCH";

// Callsign allocation (the Rust crate has a separate CallsignError enum).
inline constexpr std::string_view kInvalidCallsign = "INVALID_CALLSIGN";
inline constexpr std::string_view kCallsignInUse = "CALLSIGN_IN_USE";
inline constexpr std::string_view kCallsignsExhausted = "CALLSIGNS_EXHAUSTED";
}  // namespace errc

// Every code of the Rust SecurityError, in declaration order (the callsign codes are not included).
inline constexpr std::string_view kAllSecurityErrorCodes[] = {
    errc::kInvalidSignature,
    errc::kChallengeExpired,
    errc::kNonceMismatch,
    errc::kInvalidPublicKey,
    errc::kInvalidDeviceId,
    errc::kKeypairError,
    errc::kPeerNotAuthenticated,
    errc::kAuthFailed,
    errc::kIoError,
    errc::kSerializationError,
    errc::kInternalError,
    errc::kPeerNotFound,
    errc::kPermissionDenied,
    errc::kCertificateError,
    errc::kInvalidCertChain,
    errc::kCertificateExpired,
    errc::kCertificateRevoked,
    errc::kUserNotFound,
    errc::kUserExists,
    errc::kInvalidCredential,
    errc::kInvalidMfa,
    errc::kAccountLocked,
    errc::kAccountDisabled,
    errc::kAccountPending,
    errc::kSessionNotFound,
    errc::kSessionExpired,
    errc::kUnsupportedAuth,
    errc::kPasswordHashError,
    errc::kTotpError,
    errc::kEncryptionError,
    errc::kDecryptionError,
    errc::kKeyExchangeError,
    errc::kNoGroupKey,
    errc::kKeyGenerationMismatch,
};

inline Error security_error(std::string_view code, std::string message) {
  return Error{std::string(code), std::move(message)};
}

// Only an expired challenge is worth retrying (a fresh challenge fixes it).
inline bool is_recoverable(const Error& e) {
  return e.code == errc::kChallengeExpired;
}

// Errors whose message text the Rust tests pin down.
inline Error nonce_mismatch(std::string_view expected, std::string_view got) {
  return security_error(errc::kNonceMismatch, "nonce mismatch: expected " + std::string(expected) +
                                                  ", got " + std::string(got));
}
inline Error key_generation_mismatch(std::uint64_t expected, std::uint64_t got) {
  return security_error(errc::kKeyGenerationMismatch, "key generation mismatch: expected " +
                                                          std::to_string(expected) + ", got " +
                                                          std::to_string(got));
}
inline Error no_group_key(std::string_view cell_id) {
  return security_error(errc::kNoGroupKey, "no group key for cell: " + std::string(cell_id));
}

// Module constants (Rust security/mod.rs).
inline constexpr std::uint64_t kChallengeTimeoutSecs = 30;
inline constexpr std::size_t kChallengeNonceSize = 32;
inline constexpr std::size_t kPublicKeySize = 32;
inline constexpr std::size_t kSignatureSize = 64;

}  // namespace peat::security
