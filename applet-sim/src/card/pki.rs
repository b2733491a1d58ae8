//! The PKI application's own commands (docs/CARD.md §3.7): the PIN hash `80 C4`, the admin
//! PIN change `84 5E` and the key update `84 D4` (enciphered, PKI MAC of §6.3, each counted
//! against its PIN's or key's tries), SM2 key pair generation `80 40` and public key export
//! `80 C9`, the imports `80 4E` (SM2 decryption of an envelope's key), `80 4A` (an SM4 key),
//! `80 C2` (public and private keys), and the signature `00 2A 9E 9A` [I].
//!
//! Access [S15, S16 order; I for the refusal]: every key-pair command needs the user PIN
//! (reference 81) verified, 6982 otherwise; `80 C4` needs nothing and keeps nothing; `84 5E`
//! and `84 D4` are proven by their MAC. The private keys live in [`PrivateKeys`] (persistent,
//! on the state file) and are never answered; the public key goes to its EF (0012: `CA 40 ‖ X
//! ‖ Y`, 0x42 bytes).

use apdu::{ApduResult, Response, StatusWord};
use subtle::ConstantTimeEq;

use super::Card;
use super::durable::Datum;
use super::state::bit;
use crate::command::{Export, KeyPairFiles, PkiCommand};
use crate::fs::{EfContent, NodeId};
use crate::model::{PinEncoding, WritePoint};
use crate::pki;

/// The user PIN's reference (§3.7): what the key-pair commands need verified.
const USER_PIN: u8 = 0x81;

/// The signature private key's file (S16: `80 40 … C2 02 0013`), the one `00 2A` uses [I].
pub(crate) const SIGNATURE_PRIVATE_KEY: u16 = 0x0013;

impl Card {
    /// The one dispatch of the PKI application's own commands.
    pub(super) fn pki(&mut self, command: PkiCommand<'_>) -> ApduResult<Response> {
        match command {
            PkiCommand::PinHash { pin } => Ok(Response::new(
                pki::pin_hash(pin).to_vec(),
                StatusWord::Success,
            )),
            PkiCommand::ChangePin {
                reference,
                enciphered,
                mac,
            } => self.pki_change_pin(reference, enciphered, &mac),
            PkiCommand::KeyUpdate {
                key_id,
                enciphered,
                mac,
            } => self.pki_key_update(key_id, enciphered, &mac),
            PkiCommand::GenerateKeyPair(files) => self.generate_key_pair(files),
            PkiCommand::ExportPublicKey(export) => self.export_public_key(export),
            PkiCommand::Decipher { private, cipher } => self.decipher(private, cipher),
            PkiCommand::ImportSessionKey { key } => {
                self.require_user_pin()?;
                self.volatile.pki.session_key = Some(*key);
                Ok(Response::status(StatusWord::Success))
            }
            PkiCommand::ImportPublicKey { file, xy } => self.import_public_key(file, xy),
            PkiCommand::ImportPrivateKey {
                file,
                value,
                enciphered,
            } => self.import_private_key(file, value, enciphered),
            PkiCommand::Sign { digest } => self.sign(digest),
        }
    }

    /// 6982 unless the user PIN (81) in scope is verified.
    fn require_user_pin(&self) -> ApduResult<()> {
        let verified = self
            .pins_in_scope()
            .any(|(i, p)| p.pin.reference == USER_PIN && self.volatile.verified & bit(i) != 0);
        if verified {
            Ok(())
        } else {
            Err(StatusWord::SecurityStatusNotSatisfied)
        }
    }

    /// The transparent EF `fid` of the current DF that can hold a public key (0x42 bytes):
    /// 6A82 when there is none, 6981 when it is not transparent, 6A84 when too small.
    fn public_key_ef(&self, fid: u16) -> ApduResult<NodeId> {
        let fs = &self.persistent.fs;
        let node = fs
            .child_by_fid(self.volatile.current_df, fid)
            .filter(|n| fs.ef(*n).is_some())
            .ok_or(StatusWord::FileNotFound)?;
        match fs.ef(node).map(|e| &e.content) {
            Some(EfContent::Transparent(b)) if b.len() >= 0x42 => Ok(node),
            Some(EfContent::Transparent(_)) => Err(StatusWord::NotEnoughMemory),
            _ => Err(StatusWord::IncompatibleFileStructure),
        }
    }

    /// A private key's file id must not name a file of the current DF (whose content could
    /// be read): 6A80 [I].
    fn private_key_fid(&self, fid: u16) -> ApduResult<u16> {
        if self
            .persistent
            .fs
            .child_by_fid(self.volatile.current_df, fid)
            .is_some()
        {
            Err(StatusWord::WrongData)
        } else {
            Ok(fid)
        }
    }

    /// Writes `CA 40 ‖ X ‖ Y` at the start of EF `node` (in memory; the caller commits).
    fn write_public_key(&mut self, node: NodeId, xy: &[u8; 64]) -> ApduResult<()> {
        let object = pki::public_key_object(xy);
        let ef = self
            .persistent
            .fs
            .ef_mut(node)
            .ok_or(StatusWord::FileNotFound)?;
        let EfContent::Transparent(bytes) = &mut ef.content else {
            return Err(StatusWord::IncompatibleFileStructure);
        };
        bytes
            .get_mut(..object.len())
            .ok_or(StatusWord::NotEnoughMemory)?
            .copy_from_slice(&object);
        Ok(())
    }

    /// Stores a private key and (when given) its public key's EF as one batch record; on a
    /// storage failure the card refuses every further command (6581), so memory and file
    /// never disagree for long.
    fn store_key_pair(
        &mut self,
        fid: u16,
        d: [u8; 32],
        public: Option<(NodeId, &[u8; 64])>,
    ) -> ApduResult<()> {
        let df = self.volatile.current_df;
        let mut data = vec![Datum::PkiKeys];
        if let Some((node, xy)) = public {
            self.write_public_key(node, xy)?;
            data.push(Datum::Ef(node));
        }
        self.persistent.pki.put(df, fid, d);
        self.commit_all(WritePoint::KeyPair, &data)
    }

    /// `80 40 00 00` (S16): a new SM2 key pair from the card's random source (the seeded
    /// source under `challenge_seed`, so vectors are reproducible); the public key to its EF,
    /// the private key to its file, both in one record. Replaces a pair already there.
    fn generate_key_pair(&mut self, files: KeyPairFiles) -> ApduResult<Response> {
        self.require_user_pin()?;
        let node = self.public_key_ef(files.public)?;
        let fid = self.private_key_fid(files.private)?;
        // A scalar in [1, n-1]: draw again in the (≈2^-32) case of one out of range.
        let mut d = [0u8; 32];
        let mut secret = None;
        for _ in 0..8 {
            self.rng
                .fill(&mut d)
                .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
            secret = pki::secret_key(&d);
            if secret.is_some() {
                break;
            }
        }
        let secret = secret.ok_or(StatusWord::NoPreciseDiagnosis)?;
        let xy = pki::public_xy(&secret);
        self.store_key_pair(fid, d, Some((node, &xy)))?;
        Ok(Response::status(StatusWord::Success))
    }

    /// `80 C9 82 00` chooses a key pair (its private key must exist: 6A88), `80 C9 82 80`
    /// answers its public key `CA 40 ‖ X ‖ Y` (6985 before a choice).
    fn export_public_key(&mut self, export: Export) -> ApduResult<Response> {
        self.require_user_pin()?;
        let df = self.volatile.current_df;
        match export {
            Export::Choose(files) => {
                self.public_key_ef(files.public)?;
                self.persistent
                    .pki
                    .get(df, files.private)
                    .ok_or(StatusWord::ReferenceNotFound)?;
                self.volatile.pki.export = Some(files);
                Ok(Response::status(StatusWord::Success))
            }
            Export::Read { .. } => {
                let files = self
                    .volatile
                    .pki
                    .export
                    .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
                let secret = self
                    .persistent
                    .pki
                    .get(df, files.private)
                    .ok_or(StatusWord::ReferenceNotFound)?;
                Ok(Response::new(
                    pki::public_key_object(&pki::public_xy(&secret)),
                    StatusWord::Success,
                ))
            }
        }
    }

    /// `80 4E 00 01` (S15, S16): SM2 decryption of C1 ‖ C3 ‖ C2 with the private key of file
    /// `private` (6A88 without one); the plain text is answered (the key of the digital
    /// envelope, which `80 4A` imports next). 6A80 when the cipher text does not decrypt.
    fn decipher(&self, private: u16, cipher: &[u8]) -> ApduResult<Response> {
        self.require_user_pin()?;
        let secret = self
            .persistent
            .pki
            .get(self.volatile.current_df, private)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let plain = pki::decrypt(&secret, cipher).ok_or(StatusWord::WrongData)?;
        Ok(Response::new(plain, StatusWord::Success))
    }

    /// `80 C2 40 00` (S15, S16): X ‖ Y, a point on the curve (6A80 otherwise), into its EF.
    fn import_public_key(&mut self, file: u16, xy: &[u8; 64]) -> ApduResult<Response> {
        self.require_user_pin()?;
        let node = self.public_key_ef(file)?;
        if pki::message_digest(xy, &[]).is_none() {
            return Err(StatusWord::WrongData);
        }
        self.write_public_key(node, xy)?;
        self.commit(WritePoint::FileUpdate, Datum::Ef(node))?;
        Ok(Response::status(StatusWord::Success))
    }

    /// `80 C2 C0 P2` (S15, S16): a private key into its file, plain (P2 = 00) or SM4-ECB
    /// under the key of `80 4A` (P2 = 01; 6985 without one). 6A80 for a scalar out of range.
    fn import_private_key(
        &mut self,
        file: u16,
        value: &[u8; 32],
        enciphered: bool,
    ) -> ApduResult<Response> {
        self.require_user_pin()?;
        let fid = self.private_key_fid(file)?;
        let plain = if enciphered {
            let key = self
                .volatile
                .pki
                .session_key
                .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
            pki::sm4_ecb(&key, value, false).ok_or(StatusWord::NoPreciseDiagnosis)?
        } else {
            value.to_vec()
        };
        let d: [u8; 32] = plain.try_into().map_err(|_| StatusWord::WrongData)?;
        pki::secret_key(&d).ok_or(StatusWord::WrongData)?;
        self.store_key_pair(fid, d, None)?;
        Ok(Response::status(StatusWord::Success))
    }

    /// `00 2A 9E 9A` [I]: r ‖ s of the 32-byte digest e = SM3(Z_A ‖ M) under the signature
    /// private key (file 0013 of the current DF; 6A88 without one).
    fn sign(&self, digest: &[u8; 32]) -> ApduResult<Response> {
        self.require_user_pin()?;
        let secret = self
            .persistent
            .pki
            .get(self.volatile.current_df, SIGNATURE_PRIVATE_KEY)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let signature = pki::sign_digest(&secret, digest).ok_or(StatusWord::NoPreciseDiagnosis)?;
        Ok(Response::new(signature.to_vec(), StatusWord::Success))
    }

    /// `84 5E 01 P2 14` (§3.7, S15): the PIN `reference` (00, the admin PIN) changed by the
    /// terminal that knows it. Order: 6A88 (no such PIN), 6984 (no challenge: nothing
    /// counted), 6983 (blocked), then the counted MAC check under K_old = SM3(old PIN in
    /// BCD)[0..16] with IV = the challenge (63Cx), then the block `LD ‖ new PIN in BCD ‖ 80…`
    /// (6A80, the counter restored and the value kept). Success leaves the PIN verified.
    fn pki_change_pin(
        &mut self,
        reference: u8,
        enciphered: &[u8; 16],
        mac: &[u8; 4],
    ) -> ApduResult<Response> {
        let index = self
            .pins_in_scope()
            .find(|(_, p)| p.pin.reference == reference)
            .map(|(i, _)| i)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let challenge = self.take_challenge()?;
        let mut signed = vec![0x84, 0x5E, 0x01, reference, 0x14];
        signed.extend_from_slice(enciphered);
        let result = self.with_pin(index, |p, commit| {
            p.attempt(commit, |secret| {
                secret.pki_key().is_some_and(|key| {
                    pki::mac(&key, &challenge, &signed)
                        .is_some_and(|expected| bool::from(expected.ct_eq(mac)))
                })
            })?;
            let value = p
                .secret()
                .pki_key()
                .and_then(|key| pki::sm4_ecb(&key, enciphered, false))
                .and_then(|block| {
                    let digits = pki::unpad_block(&block)?;
                    PinEncoding::Bcd
                        .decode(digits, p.min_digits, p.max_digits)
                        .ok()
                });
            match value {
                Some(v) => p.set_value(v, commit),
                None => {
                    commit(WritePoint::PinRestore, p)
                        .map_err(|_| crate::model::pin::PinError::Storage)?;
                    Err(crate::model::pin::PinError::BadFormat)
                }
            }
        })?;
        match result {
            Ok(()) => {
                self.volatile.verified |= bit(index);
                Ok(Response::status(StatusWord::Success))
            }
            Err(e) => {
                if matches!(
                    e,
                    crate::model::pin::PinError::Mismatch { .. }
                        | crate::model::pin::PinError::Blocked
                ) {
                    self.volatile.verified &= !bit(index);
                }
                Err(e.into())
            }
        }
    }

    /// `84 D4 01 P2 24` (§3.7, S15): key P2 of the current DF replaced. Order: 6A88, 6983
    /// (blocked, nothing compared), 6984 (no challenge), then the counted MAC check under
    /// the old key (decremented and durable first; 63Cx), then the block `13 ‖ 3 bytes ‖
    /// new key ‖ 80…` (6A80: the counter restored, the key kept; the 3 bytes are not
    /// interpreted [I]). The new value and the restored counter are one record.
    fn pki_key_update(
        &mut self,
        key_id: u8,
        enciphered: &[u8; 32],
        mac: &[u8; 4],
    ) -> ApduResult<Response> {
        let index = self.key_index(key_id, None)?;
        let key = self
            .persistent
            .keys
            .get(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        if key.remaining == 0 {
            return Err(StatusWord::AuthenticationMethodBlocked);
        }
        // An SM4 key only (a key of another length could never match: no try spent on it).
        if key.value.len() != 16 {
            return Err(StatusWord::ConditionsOfUseNotSatisfied);
        }
        let challenge = self.take_challenge()?;
        let key = self
            .persistent
            .keys
            .get_mut(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        key.remaining -= 1;
        self.commit(WritePoint::KeyDecrement, Datum::Key(index))?;
        let key = self
            .persistent
            .keys
            .get_mut(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let mut signed = vec![0x84, 0xD4, 0x01, key_id, 0x24];
        signed.extend_from_slice(enciphered);
        let expected =
            pki::mac(&key.value, &challenge, &signed).ok_or(StatusWord::NoPreciseDiagnosis)?;
        if !bool::from(expected.ct_eq(mac)) {
            return Err(StatusWord::RemainingRetries(key.remaining));
        }
        key.remaining = key.max_tries;
        let new_key = pki::sm4_ecb(&key.value, enciphered, false)
            .and_then(|block| pki::unpad_block(&block).map(<[u8]>::to_vec))
            .filter(|data| data.len() == 19)
            .and_then(|data| data.get(3..).map(<[u8]>::to_vec));
        let Some(new_key) = new_key else {
            self.commit(WritePoint::KeyRestore, Datum::Key(index))?;
            return Err(StatusWord::WrongData);
        };
        key.value = new_key;
        key.value_changed = true;
        self.commit(WritePoint::KeyValue, Datum::KeyValue(index))?;
        Ok(Response::status(StatusWord::Success))
    }
}
