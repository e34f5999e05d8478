from flask_wtf.file import MultipleFileField
from wtforms.validators import ValidationError

from tracker.formutil import TrackerForm
from tracker.services.corpus import SUFFIXES


class ImportForm(TrackerForm):
    files = MultipleFileField(
        "答复函文件",
        description="可多选：.txt、.docx、.pdf、.html/.htm、.doc/.wps，或它们的 .zip 压缩包",
        render_kw={"accept": ",".join(SUFFIXES)},
    )

    def __init__(self, *args, max_files: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_files = max_files

    def chosen(self) -> list:
        return [f for f in self.files.data or [] if f and f.filename]

    def validate_files(self, field) -> None:
        count = len(self.chosen())
        if not count:
            raise ValidationError("请选择要导入的文件。")
        if count > self.max_files:
            raise ValidationError(
                f"一次最多上传 {self.max_files} 个文件（本次 {count} 个）；请分批或打包为 .zip。"
            )
