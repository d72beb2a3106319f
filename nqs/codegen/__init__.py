"""Files generated from the definitions (contracts, catalogue, strategy seeds), never edited by hand."""
