//! Invented name pools. Combinations are random, so no real person's data is
//! reproduced; non-ASCII names exist to exercise RFC 2047 handling.

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Maya",
    "Daniel",
    "Priya",
    "Marcus",
    "Elena",
    "Hannah",
    "Kenji",
    "Olivia",
    "Rafael",
    "Grace",
    "Samuel",
    "Aisha",
    "Lucas",
    "Nadia",
    "Owen",
    "Ingrid",
    "Mateo",
    "Chloe",
    "Ravi",
    "Fiona",
    "Theo",
    "Leila",
    "Jonas",
    "Camille",
    "Ethan",
    "Mei",
    "Victor",
    "Sofia",
    "Diego",
    "Naomi",
    "Isaac",
    "Harper",
    "Arjun",
    "Lena",
    "Felix",
    "Clara",
    "Omar",
    "Julia",
    "Henrik",
    "Tessa",
    "Callum",
    "Yara",
    "Declan",
    "Imogen",
    "Tobias",
    "Anika",
    "Rowan",
    "Beatrix",
    "Malik",
    "Sienna",
    "José",
    "Zoë",
    "Søren",
    "Renée",
    "Björn",
    "Łukasz",
    "Anaïs",
    "Chloé",
    "Jürgen",
    "Mónica",
    "François",
    "Åsa",
    "Çağla",
    "Dörte",
    "Íñigo",
    "Noémie",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Whitfield",
    "Okafor",
    "Lindqvist",
    "Castellano",
    "Brennan",
    "Nakamura",
    "Delacroix",
    "Hargrove",
    "Patel",
    "Kowalski",
    "Moreau",
    "Fischer",
    "Sato",
    "Gallagher",
    "Reyes",
    "Thornton",
    "Abernathy",
    "Vance",
    "Kaur",
    "Holloway",
    "Marchetti",
    "Sinclair",
    "Adeyemi",
    "Novak",
    "Ashford",
    "Calloway",
    "Esposito",
    "Lund",
    "Winslow",
    "Demir",
    "Harrington",
    "Osei",
    "Blackwood",
    "Ferreira",
    "Quinlan",
    "Varga",
    "O'Brien",
    "O'Connell",
    "Pemberton",
    "Rasmussen",
    "Müller",
    "Ødegaard",
    "Núñez",
    "Søndergaard",
    "Wójcik",
    "Gómez",
    "Šimić",
    "Größer",
    "Håkansson",
    "Lefèvre",
    "Çelik",
    "Jóhannsdóttir",
    "Brandão",
    "Dvořák",
];

/// ASCII transliteration used to build mailbox local parts and handles.
pub(crate) fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let rep = match c {
            'á' | 'à' | 'â' | 'ã' => "a",
            'ä' => "ae",
            'å' => "aa",
            'Å' => "Aa",
            'ç' => "c",
            'Ç' => "C",
            'č' | 'ć' => "c",
            'é' | 'è' | 'ê' | 'ë' | 'ě' => "e",
            'í' | 'ï' | 'î' => "i",
            'Í' => "I",
            'ñ' => "n",
            'ó' | 'ô' | 'õ' => "o",
            'ö' => "oe",
            'ø' => "o",
            'Ø' => "O",
            'ř' => "r",
            'š' => "s",
            'Š' => "S",
            'ß' => "ss",
            'ú' | 'ù' | 'û' => "u",
            'ü' => "ue",
            'ğ' => "g",
            'ł' => "l",
            'Ł' => "L",
            'ń' => "n",
            'ś' => "s",
            'ź' | 'ż' => "z",
            c if c.is_ascii() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(rep);
    }
    out
}

/// Lowercase ASCII slug with only letters and digits, for addresses and handles.
pub(crate) fn slug(s: &str) -> String {
    ascii_fold(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pool_name_folds_to_nonempty_ascii() {
        for name in FIRST_NAMES.iter().chain(LAST_NAMES) {
            let s = slug(name);
            assert!(!s.is_empty() && s.is_ascii(), "{name} -> {s}");
        }
    }
}
