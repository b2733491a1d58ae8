//! SELECT and the file commands: READ/UPDATE BINARY, READ/UPDATE/APPEND RECORD
//! (docs/CARD.md §3, §4.1; ISO 7816-4 §7, §11.2, §11.3).
//!
//! Checks run in one order for every file command: the file (6986 no current EF, 6A82 no
//! such SFI), its structure (6981), the access condition (6982), then the addressed data
//! (6B00, 6A83, 6A84, 6700, 6A85).

use crate::model::behaviour::{SelectEfByP100, SelectMf};
use apdu::tlv::SimpleTlv;
use apdu::{ApduResult, Response, StatusWord};

use super::Card;
use super::durable::Datum;
use super::state::AppBlock;
use crate::command::{FileRef, Occurrence, RecordMode, SelectBy};
use crate::fs::{Ef, EfContent, MF, Node, NodeId};
use crate::model::Structure;
use crate::model::WritePoint;
use crate::model::access::Access;

/// What a file command does with the file, for the access check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Read,
    Update,
}

/// Which structure a command needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    Transparent,
    Records,
}

impl Card {
    /// SELECT (docs/CARD.md §3.2, §4.1): a DF answers its FCI, an EF answers 9000 alone.
    /// On failure the selection is unchanged.
    pub(super) fn select(
        &mut self,
        target: SelectBy<'_>,
        return_fci: bool,
    ) -> ApduResult<Response> {
        let fs = &self.persistent.fs;
        let current = self.volatile.current_df;
        let found = match target {
            SelectBy::Fid(None) => Some(MF),
            SelectBy::Fid(Some(fid)) => fs.resolve_fid(current, fid),
            SelectBy::ChildDf(fid) => fs
                .child_by_fid(current, fid)
                .filter(|n| fs.df(*n).is_some()),
            SelectBy::ChildEf(fid) => fs
                .child_by_fid(current, fid)
                .filter(|n| fs.ef(*n).is_some()),
            SelectBy::Parent => fs.df(current).and_then(|d| d.parent),
            SelectBy::DfName { name, next } => {
                let first = fs.dfs_by_name(name).next();
                if next {
                    // The occurrence after the current DF; the first if the current DF is
                    // not among the matches (ISO 7816-4 §7.1.1, P2 = 02).
                    let mut after = fs.dfs_by_name(name).skip_while(|n| *n != current);
                    match after.next() {
                        Some(_) => after.next(),
                        None => first,
                    }
                } else {
                    first
                }
            }
        };
        let found = found.ok_or(StatusWord::FileNotFound)?;
        // §9.9 `select_ef_by_p1_00 = "df-only"`: P1 = 00 reaches the MF and DFs only.
        if matches!(target, SelectBy::Fid(Some(_)))
            && self.behaviour.select_ef_by_p1_00 == SelectEfByP100::DfOnly
            && fs.ef(found).is_some()
        {
            return Err(StatusWord::FileNotFound);
        }
        // A blocked application (lifecycle.rs): permanently, 9303 and nothing selected;
        // temporarily (PBOC), its DFs are selected with 6283 and no FCI, its EFs refused.
        let block = self.persistent.lifecycle.block_of(fs, found);
        match (block, fs.node(found)) {
            (None, _) => {}
            (Some(AppBlock::Permanent), _) => return Err(StatusWord::ApplicationBlocked),
            (Some(AppBlock::Temporary), Some(Node::Df(_))) => {
                self.enter_df(found);
                return Err(StatusWord::SelectedFileInvalidated);
            }
            (Some(AppBlock::Temporary), _) => {
                return Err(StatusWord::ConditionsOfUseNotSatisfied);
            }
        }
        match fs.node(found) {
            Some(Node::Df(df)) => {
                let fci = match (return_fci, &df.fci) {
                    (false, _) => None,
                    (true, Some(fci)) => Some(fci.clone()),
                    // §9.9 `select_mf = "fci"`: the MF's FCI names its file identifier.
                    (true, None) if found == MF && self.behaviour.select_mf == SelectMf::Fci => {
                        Some(vec![0x6F, 0x04, 0x83, 0x02, 0x3F, 0x00])
                    }
                    (true, None) => None,
                };
                self.enter_df(found);
                Ok(Response::new(fci.unwrap_or_default(), StatusWord::Success))
            }
            Some(Node::Ef(_)) => {
                self.set_current_ef(found);
                Ok(Response::status(StatusWord::Success))
            }
            None => Err(StatusWord::FileNotFound),
        }
    }

    fn set_current_ef(&mut self, ef: NodeId) {
        if self.volatile.current_ef != Some(ef) {
            self.volatile.current_ef = Some(ef);
            self.volatile.record_pointer = None;
        }
    }

    /// Resolves the EF a command addresses (an SFI makes it current, ISO 7816-4 §7.2.2) and
    /// checks its structure and access condition.
    fn open_ef(&mut self, file: FileRef, needs: Needs, op: Op) -> ApduResult<NodeId> {
        let id = match file {
            FileRef::Current => self.volatile.current_ef.ok_or(StatusWord::NoCurrentEf)?,
            FileRef::Sfi(sfi) => self
                .persistent
                .fs
                .ef_by_sfi(self.volatile.current_df, sfi)
                .ok_or(StatusWord::FileNotFound)?,
        };
        self.set_current_ef(id);
        let ef = self.persistent.fs.ef(id).ok_or(StatusWord::NoCurrentEf)?;
        // The security status of the EF's own DF, however it was selected.
        let granted = self.granted_at(ef.parent);
        let structure_ok = match needs {
            Needs::Transparent => ef.control.structure == Structure::Transparent,
            Needs::Records => ef.control.structure != Structure::Transparent,
        };
        if !structure_ok {
            return Err(StatusWord::IncompatibleFileStructure);
        }
        let condition: Access = match op {
            Op::Read => ef.control.read,
            Op::Update => ef.control.update,
        };
        if !condition.allows(granted) {
            return Err(StatusWord::SecurityStatusNotSatisfied);
        }
        Ok(id)
    }

    /// The DF holding the EF a command addresses, without changing the selection; the
    /// current DF when the command names no EF that exists (its own checks answer that).
    pub(super) fn file_df(&self, file: FileRef) -> NodeId {
        let current = self.volatile.current_df;
        let fs = &self.persistent.fs;
        let ef = match file {
            FileRef::Current => self.volatile.current_ef,
            FileRef::Sfi(sfi) => fs.ef_by_sfi(current, sfi),
        };
        ef.and_then(|id| fs.ef(id)).map_or(current, |ef| ef.parent)
    }

    fn ef_mut(&mut self, id: NodeId) -> ApduResult<&mut Ef> {
        self.persistent.fs.ef_mut(id).ok_or(StatusWord::NoCurrentEf)
    }

    /// READ BINARY (§4.1): up to Ne bytes from the offset; an offset at or past the end is
    /// 6B00. Under T=0 fewer bytes than Le come back as `6Cxx` (shaping).
    pub(super) fn read_binary(
        &mut self,
        file: FileRef,
        offset: u16,
        ne: u32,
    ) -> ApduResult<Response> {
        let id = self.open_ef(file, Needs::Transparent, Op::Read)?;
        let ef = self.persistent.fs.ef(id).ok_or(StatusWord::NoCurrentEf)?;
        let EfContent::Transparent(data) = &ef.content else {
            return Err(StatusWord::IncompatibleFileStructure);
        };
        let rest = data
            .get(usize::from(offset)..)
            .filter(|r| !r.is_empty())
            .ok_or(StatusWord::WrongParameters)?;
        let n = rest.len().min(usize::try_from(ne).unwrap_or(usize::MAX));
        Ok(Response::new(
            rest.get(..n).unwrap_or_default().to_vec(),
            StatusWord::Success,
        ))
    }

    /// UPDATE BINARY (§4.1): an offset past the end is 6B00; data running past the end is
    /// 6A84 and writes nothing.
    pub(super) fn update_binary(
        &mut self,
        file: FileRef,
        offset: u16,
        new: &[u8],
    ) -> ApduResult<Response> {
        let id = self.open_ef(file, Needs::Transparent, Op::Update)?;
        let ef = self.ef_mut(id)?;
        let EfContent::Transparent(data) = &mut ef.content else {
            return Err(StatusWord::IncompatibleFileStructure);
        };
        let start = usize::from(offset);
        if start >= data.len() {
            return Err(StatusWord::WrongParameters);
        }
        let target = data
            .get_mut(start..start + new.len())
            .ok_or(StatusWord::NotEnoughMemory)?;
        target.copy_from_slice(new);
        self.commit(WritePoint::FileUpdate, Datum::Ef(id))?;
        Ok(Response::status(StatusWord::Success))
    }

    /// READ RECORD (docs/CARD.md §3.4, §4.1): by number, P1 to last, last to P1, or by
    /// identifier (first/last/next/previous occurrence), current EF or by SFI. Reading by
    /// identifier moves the record pointer; reading by number leaves it.
    pub(super) fn read_record(
        &mut self,
        file: FileRef,
        p1: u8,
        mode: RecordMode,
    ) -> ApduResult<Response> {
        let id = self.open_ef(file, Needs::Records, Op::Read)?;
        let pointer = self.volatile.record_pointer;
        let ef = self.persistent.fs.ef(id).ok_or(StatusWord::NoCurrentEf)?;
        let EfContent::Records(records) = &ef.content else {
            return Err(StatusWord::IncompatibleFileStructure);
        };
        let (data, new_pointer) = match mode {
            RecordMode::Number => {
                let i = record_number(p1, pointer)?;
                (
                    records.get(i).ok_or(StatusWord::RecordNotFound)?.clone(),
                    pointer,
                )
            }
            RecordMode::FromNumberToLast | RecordMode::FromLastToNumber => {
                let i = record_number(p1, pointer)?;
                let selected = records
                    .get(i..)
                    .filter(|r| !r.is_empty())
                    .ok_or(StatusWord::RecordNotFound)?;
                let data = if mode == RecordMode::FromNumberToLast {
                    selected.concat()
                } else {
                    selected.iter().rev().flatten().copied().collect()
                };
                (data, pointer)
            }
            RecordMode::Identifier(occurrence) => {
                let i = find_occurrence(records, p1, occurrence, pointer)
                    .ok_or(StatusWord::RecordNotFound)?;
                (
                    records.get(i).ok_or(StatusWord::RecordNotFound)?.clone(),
                    Some(i),
                )
            }
        };
        self.volatile.record_pointer = new_pointer;
        Ok(Response::new(data, StatusWord::Success))
    }

    /// UPDATE RECORD (docs/CARD.md §4.1, §7.4): the whole record, by number or by identifier;
    /// by identifier on a missing record, the record is appended.
    pub(super) fn update_record(
        &mut self,
        file: FileRef,
        p1: u8,
        mode: RecordMode,
        data: &[u8],
    ) -> ApduResult<Response> {
        let id = self.open_ef(file, Needs::Records, Op::Update)?;
        let pointer = self.volatile.record_pointer;
        let ef = self.ef_mut(id)?;
        check_record(ef, data)?;
        let (capacity, structure) = (ef.control.capacity, ef.control.structure);
        let EfContent::Records(records) = &mut ef.content else {
            return Err(StatusWord::IncompatibleFileStructure);
        };
        let new_pointer = match mode {
            RecordMode::Number => {
                let i = record_number(p1, pointer)?;
                let slot = records.get_mut(i).ok_or(StatusWord::RecordNotFound)?;
                *slot = data.to_vec();
                pointer
            }
            RecordMode::Identifier(occurrence) => {
                if p1 != 0 && data.first() != Some(&p1) {
                    return Err(StatusWord::WrongData);
                }
                match find_occurrence(records, p1, occurrence, pointer) {
                    Some(i) => {
                        let slot = records.get_mut(i).ok_or(StatusWord::RecordNotFound)?;
                        *slot = data.to_vec();
                        Some(i)
                    }
                    None => Some(append(records, capacity, structure, data)?),
                }
            }
            RecordMode::FromNumberToLast | RecordMode::FromLastToNumber => {
                return Err(StatusWord::IncorrectP1P2);
            }
        };
        self.volatile.record_pointer = new_pointer;
        self.commit(WritePoint::FileUpdate, Datum::Ef(id))?;
        Ok(Response::status(StatusWord::Success))
    }

    /// APPEND RECORD (ISO 7816-4 §11.3.6): a linear EF grows by one record (6A84 when full);
    /// in a cyclic EF the new record becomes record 1 and the oldest drops out.
    pub(super) fn append_record(&mut self, file: FileRef, data: &[u8]) -> ApduResult<Response> {
        let id = self.open_ef(file, Needs::Records, Op::Update)?;
        let ef = self.ef_mut(id)?;
        check_record(ef, data)?;
        let (capacity, structure) = (ef.control.capacity, ef.control.structure);
        let EfContent::Records(records) = &mut ef.content else {
            return Err(StatusWord::IncompatibleFileStructure);
        };
        let i = append(records, capacity, structure, data)?;
        self.volatile.record_pointer = Some(i);
        self.commit(WritePoint::FileUpdate, Datum::Ef(id))?;
        Ok(Response::status(StatusWord::Success))
    }
}

/// P1 as a record index in the number modes: 00 is the current record.
fn record_number(p1: u8, pointer: Option<usize>) -> ApduResult<usize> {
    match p1 {
        0 => pointer.ok_or(StatusWord::RecordNotFound),
        n => Ok(usize::from(n) - 1),
    }
}

/// The index of an occurrence of records whose first byte is `id` (00: any record), relative
/// to the record pointer for next/previous (from the start/end when there is none).
fn find_occurrence(
    records: &[Vec<u8>],
    id: u8,
    occurrence: Occurrence,
    pointer: Option<usize>,
) -> Option<usize> {
    let hit = |r: &Vec<u8>| id == 0 || r.first() == Some(&id);
    match (occurrence, pointer) {
        (Occurrence::First, _) | (Occurrence::Next, None) => records.iter().position(hit),
        (Occurrence::Last, _) | (Occurrence::Previous, None) => records.iter().rposition(hit),
        (Occurrence::Next, Some(p)) => records
            .iter()
            .enumerate()
            .skip(p + 1)
            .find(|(_, r)| hit(r))
            .map(|(i, _)| i),
        (Occurrence::Previous, Some(p)) => records.iter().take(p).rposition(hit),
    }
}

/// A record a write may store: cyclic records have exactly the record size; linear records
/// fit the record size and are one simple-TLV object whose length agrees with Lc (6A85).
fn check_record(ef: &Ef, data: &[u8]) -> ApduResult<()> {
    match ef.control.structure {
        Structure::Cyclic if data.len() != ef.control.record_size => Err(StatusWord::WrongLength),
        Structure::Cyclic | Structure::Transparent => Ok(()),
        Structure::Linear if data.len() > ef.control.record_size => Err(StatusWord::WrongLength),
        Structure::Linear => SimpleTlv::parse_exact(data)
            .map(|_| ())
            .map_err(|_| StatusWord::LcInconsistentWithTlv),
    }
}

/// Adds a record, returning its index: at the end of a linear EF, or as record 1 of a
/// cyclic EF (dropping the oldest beyond the capacity).
fn append(
    records: &mut Vec<Vec<u8>>,
    capacity: usize,
    structure: Structure,
    data: &[u8],
) -> ApduResult<usize> {
    if structure == Structure::Cyclic {
        records.insert(0, data.to_vec());
        records.truncate(capacity);
        return Ok(0);
    }
    if records.len() >= capacity {
        return Err(StatusWord::NotEnoughMemory);
    }
    records.push(data.to_vec());
    Ok(records.len() - 1)
}
