//! The card's file system (ISO 7816-4 §5.3, docs/CARD.md §3): an arena of DFs and EFs under
//! the MF, built from a profile.

use apdu::tlv::BerNode;

use crate::model::{AppKind, EfControl};

/// Index of a file in the arena; the MF is [`MF`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(u16);

/// The master file.
pub const MF: NodeId = NodeId(0);

/// The MF's file identifier.
pub const MF_FID: u16 = 0x3F00;

impl NodeId {
    fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The node number, as the state file stores it.
    #[must_use]
    pub fn raw(self) -> u16 {
        self.0
    }

    /// A node number read from a state file (checked against the tree by its user).
    #[must_use]
    pub fn from_raw(n: u16) -> Self {
        Self(n)
    }
}

/// A dedicated file: the MF, an application (DDF/ADF) or a sub-directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Df {
    /// The parent (none for the MF).
    pub parent: Option<NodeId>,
    /// File identifier.
    pub fid: Option<u16>,
    /// DF name / AID.
    pub name: Option<Vec<u8>>,
    /// FCI answered on SELECT.
    pub fci: Option<Vec<u8>>,
    /// Children in declaration order.
    pub children: Vec<NodeId>,
    /// The command set, for an application directly under the MF.
    pub kind: Option<AppKind>,
}

/// What an EF holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EfContent {
    /// Transparent bytes (fixed size).
    Transparent(Vec<u8>),
    /// Records, record number 1 first (for a cyclic EF: the newest first).
    Records(Vec<Vec<u8>>),
}

/// An elementary file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ef {
    /// The DF holding it.
    pub parent: NodeId,
    /// Identifiers, structure, size and access conditions.
    pub control: EfControl,
    /// Contents.
    pub content: EfContent,
}

/// A file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A DF.
    Df(Df),
    /// An EF.
    Ef(Ef),
}

/// All files of the card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSystem {
    nodes: Vec<Node>,
}

impl Default for FileSystem {
    fn default() -> Self {
        Self::new()
    }
}

impl FileSystem {
    /// A tree holding only the MF.
    #[must_use]
    pub fn new() -> Self {
        Self {
            nodes: vec![Node::Df(Df {
                parent: None,
                fid: Some(MF_FID),
                name: None,
                fci: None,
                children: Vec::new(),
                kind: None,
            })],
        }
    }

    /// Adds a DF under its parent (which must already be in the tree).
    pub fn add_df(&mut self, df: Df) -> NodeId {
        let parent = df.parent.unwrap_or(MF);
        self.push(parent, Node::Df(df))
    }

    /// Adds an EF under its parent (which must already be in the tree).
    pub fn add_ef(&mut self, ef: Ef) -> NodeId {
        let parent = ef.parent;
        self.push(parent, Node::Ef(ef))
    }

    fn push(&mut self, parent: NodeId, node: Node) -> NodeId {
        // Profiles are small; more than 65,535 files would be refused long before.
        let id = NodeId(u16::try_from(self.nodes.len()).unwrap_or(u16::MAX));
        self.nodes.push(node);
        if let Some(Node::Df(p)) = self.nodes.get_mut(parent.index()) {
            p.children.push(id);
        }
        id
    }

    /// The file with this id.
    #[must_use]
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }

    /// The DF with this id.
    #[must_use]
    pub fn df(&self, id: NodeId) -> Option<&Df> {
        match self.node(id) {
            Some(Node::Df(df)) => Some(df),
            _ => None,
        }
    }

    /// The EF with this id.
    #[must_use]
    pub fn ef(&self, id: NodeId) -> Option<&Ef> {
        match self.node(id) {
            Some(Node::Ef(ef)) => Some(ef),
            _ => None,
        }
    }

    /// The EF with this id, for writing.
    pub fn ef_mut(&mut self, id: NodeId) -> Option<&mut Ef> {
        match self.nodes.get_mut(id.index()) {
            Some(Node::Ef(ef)) => Some(ef),
            _ => None,
        }
    }

    fn fid_of(&self, id: NodeId) -> Option<u16> {
        match self.node(id)? {
            Node::Df(df) => df.fid,
            Node::Ef(ef) => Some(ef.control.fid),
        }
    }

    fn children(&self, df: NodeId) -> &[NodeId] {
        self.df(df).map_or(&[], |d| d.children.as_slice())
    }

    /// A child of `df` with this FID.
    #[must_use]
    pub fn child_by_fid(&self, df: NodeId, fid: u16) -> Option<NodeId> {
        self.children(df)
            .iter()
            .copied()
            .find(|c| self.fid_of(*c) == Some(fid))
    }

    /// SELECT P1=00 resolution (ISO 7816-4 §7.1.1): the MF, a child of the current DF, the
    /// current DF itself, or a child of its parent (a sibling).
    #[must_use]
    pub fn resolve_fid(&self, current: NodeId, fid: u16) -> Option<NodeId> {
        if fid == MF_FID {
            return Some(MF);
        }
        self.child_by_fid(current, fid)
            .or_else(|| (self.fid_of(current) == Some(fid)).then_some(current))
            .or_else(|| {
                let parent = self.df(current)?.parent?;
                self.child_by_fid(parent, fid)
            })
    }

    /// The EF with this SFI among `df`'s children.
    #[must_use]
    pub fn ef_by_sfi(&self, df: NodeId, sfi: u8) -> Option<NodeId> {
        self.children(df)
            .iter()
            .copied()
            .find(|c| self.ef(*c).is_some_and(|e| e.control.sfi == Some(sfi)))
    }

    /// DFs whose name starts with `prefix`, in tree order (SELECT by DF name, partial names
    /// allowed as ISO 7816-4 §7.1.1 permits).
    pub fn dfs_by_name<'a>(&'a self, prefix: &'a [u8]) -> impl Iterator<Item = NodeId> + 'a {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(move |(i, n)| match n {
                Node::Df(Df {
                    name: Some(name), ..
                }) if name.starts_with(prefix) => u16::try_from(i).ok().map(NodeId),
                _ => None,
            })
    }

    /// The application a DF belongs to: the DF directly under the MF that contains it (the MF
    /// for the MF). Security status is kept within one application (docs/CARD.md §5.1, §9.2).
    #[must_use]
    pub fn application_of(&self, mut id: NodeId) -> NodeId {
        while let Some(parent) = self.df(id).and_then(|d| d.parent) {
            if parent == MF {
                return id;
            }
            id = parent;
        }
        MF
    }

    /// The command set of the application `df` belongs to (`None` at the MF).
    #[must_use]
    pub fn kind_of(&self, df: NodeId) -> Option<AppKind> {
        self.df(self.application_of(df)).and_then(|d| d.kind)
    }

    /// True when an application of `kind` is `df` or lies below it (a PIN of `df` is in
    /// its scope).
    #[must_use]
    pub fn reaches_kind(&self, df: NodeId, kind: AppKind) -> bool {
        (0..self.nodes.len())
            .filter_map(|i| u16::try_from(i).ok().map(NodeId))
            .any(|n| {
                matches!(self.node(n), Some(Node::Df(_)))
                    && self.kind_of(n) == Some(kind)
                    && self.is_within(n, df)
            })
    }

    /// True when `id` is `ancestor` or lies below it.
    #[must_use]
    pub fn is_within(&self, mut id: NodeId, ancestor: NodeId) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            match self.node(id) {
                Some(
                    Node::Df(Df {
                        parent: Some(p), ..
                    })
                    | Node::Ef(Ef { parent: p, .. }),
                ) => id = *p,
                _ => return false,
            }
        }
    }

    /// The DF holding `id` (itself for a DF).
    #[must_use]
    pub fn df_of(&self, id: NodeId) -> NodeId {
        match self.node(id) {
            Some(Node::Ef(ef)) => ef.parent,
            _ => id,
        }
    }

    /// Every EF, in tree order.
    pub fn ef_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n, Node::Ef(_)))
            .filter_map(|(i, _)| u16::try_from(i).ok().map(NodeId))
    }

    /// Bytes of heap held by file contents and names (for the size budget).
    #[cfg(any(test, feature = "testing"))]
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let nodes = self.nodes.capacity() * std::mem::size_of::<Node>();
        let owned: usize = self
            .nodes
            .iter()
            .map(|n| match n {
                Node::Df(d) => {
                    d.name.as_ref().map_or(0, Vec::capacity)
                        + d.fci.as_ref().map_or(0, Vec::capacity)
                        + d.children.capacity() * std::mem::size_of::<NodeId>()
                }
                Node::Ef(e) => match &e.content {
                    EfContent::Transparent(d) => d.capacity(),
                    EfContent::Records(r) => {
                        r.capacity() * std::mem::size_of::<Vec<u8>>()
                            + r.iter().map(Vec::capacity).sum::<usize>()
                    }
                },
            })
            .sum();
        nodes + owned
    }
}

/// The FCI of an application DF (docs/CARD.md §3.2, spec Table 36):
/// `6F{84 DF name, A5{88 DIR SFI, 9F0C{86 algorithm flag}}}`, optional parts left out.
#[must_use]
pub fn build_fci(name: &[u8], dir_sfi: Option<u8>, algorithm: Option<u8>) -> Vec<u8> {
    let mut proprietary = Vec::new();
    if let Some(sfi) = dir_sfi {
        proprietary.push(BerNode::primitive(0x88, [sfi]));
    }
    if let Some(flag) = algorithm {
        // 9F0C is a primitive tag whose value is itself TLV: 86 01 <flag>.
        proprietary.push(BerNode::primitive(0x9F0C, [0x86, 0x01, flag]));
    }
    let mut children = vec![BerNode::primitive(0x84, name.to_vec())];
    if !proprietary.is_empty() {
        children.push(BerNode::constructed(0xA5, proprietary));
    }
    // Names are at most 16 bytes, so the template is far below any length limit.
    BerNode::constructed(0x6F, children)
        .to_vec()
        .unwrap_or_default()
}
