"""The export index's words, in the six languages of the web client."""

from __future__ import annotations

INDEX_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your data in TwinSpace",
        "intro": "This archive holds what the project rooms store about you. Each file is "
        "JSON, one list of records per table.",
        "part": "Part",
        "file": "File",
        "records": "Records",
        "shares": "Your share of the edits of each shared document",
    },
    "ar": {
        "title": "بياناتك في TwinSpace",
        "intro": "يحتوي هذا الأرشيف على ما تخزنه غرف المشاريع عنك. كل ملف بصيغة JSON، "
        "قائمة سجلات لكل جدول.",
        "part": "القسم",
        "file": "الملف",
        "records": "السجلات",
        "shares": "حصتك من تعديلات كل مستند مشترك",
    },
    "ca": {
        "title": "Les teves dades a TwinSpace",
        "intro": "Aquest arxiu conté el que les sales de projecte guarden sobre tu. Cada "
        "fitxer és JSON, una llista de registres per taula.",
        "part": "Part",
        "file": "Fitxer",
        "records": "Registres",
        "shares": "La teva part de les edicions de cada document compartit",
    },
    "da": {
        "title": "Dine data i TwinSpace",
        "intro": "Dette arkiv indeholder det, projektrummene gemmer om dig. Hver fil er JSON, "
        "én liste med poster pr. tabel.",
        "part": "Del",
        "file": "Fil",
        "records": "Poster",
        "shares": "Din andel af redigeringerne i hvert delt dokument",
    },
    "it": {
        "title": "I tuoi dati in TwinSpace",
        "intro": "Questo archivio contiene ciò che le stanze di progetto conservano su di te. "
        "Ogni file è JSON, un elenco di record per tabella.",
        "part": "Parte",
        "file": "File",
        "records": "Record",
        "shares": "La tua parte delle modifiche di ogni documento condiviso",
    },
    "tr": {
        "title": "TwinSpace'teki verilerin",
        "intro": "Bu arşiv, proje odalarının senin hakkında sakladıklarını içerir. Her dosya "
        "JSON biçimindedir, tablo başına bir kayıt listesi.",
        "part": "Bölüm",
        "file": "Dosya",
        "records": "Kayıtlar",
        "shares": "Her paylaşılan belgedeki düzenlemelerden payın",
    },
}
