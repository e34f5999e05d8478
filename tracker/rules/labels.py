"""Names of the workflow's states and roles as users read them (Simplified Chinese).

These are the state machine's own names, fixed by the code that moves between them.
Vocabularies that differ between places (grades, channels, satisfaction, disclosure)
are database rows instead: see ``tracker.models.VocabularyTerm``.
"""

ROLES = {
    "clerk": "承办人",
    "supervisor": "负责人/督办",
    "liaison": "联络员",
    "admin": "系统管理员",
    "deputy": "代表/委员",
}

PROPOSAL_KINDS = ("建议", "提案", "议案")
BODIES = ("人大", "政协")
LEVELS = ("全国", "省", "市", "区")

PROPOSAL_STATUS = {
    "registered": "待交办",
    "assigned": "待签收",
    "handling": "办理中",
    "replied": "已答复",
    "rehandling": "重新办理",
    "closed": "已办结",
}

ASSIGNMENT_ROLES = {"lead": "主办", "co": "会办", "separate": "分办"}

CONTACT_PHASES = {"before": "办前", "during": "办中", "after": "办后"}
# the deputy's answer to a contact a unit logged (tracker.services.deputies)
DEPUTY_CONTACT_STATUS = {"confirmed": "代表已确认", "disputed": "代表有异议"}
# how a rating was entered: by the deputy online, or 代填 from the paper form by a liaison
FEEDBACK_SOURCE = {"online": "代表在线评价", "proxy": "代填"}
# the rating form's answer to "how did the unit contact you": a contact_channel, or none
NOT_CONTACTED = "none"
NOT_CONTACTED_LABEL = "未与我联系"

REASSIGN_STATUS = {"requested": "申请调整中", "approved": "已同意调整", "refused": "不同意调整"}

EXTENSION_STATUS = {"pending": "待审批", "granted": "已批准", "refused": "未批准"}

LETTER_STATUS = {
    "draft": "草稿",
    "cosigning": "会签中",
    "submitted": "待签发",
    "approved": "已签发",
    "issued": "已发出",
    "published": "已公开",
    "imported": "已导入",
}
# A drafted letter on its way to being sent: its text may still change or be signed off.
DRAFT_LETTER_STATUSES = ("draft", "cosigning", "submitted", "approved")
# a co-handling unit's 会签 of the lead unit's draft (tracker.services.cosign)
COSIGN_STATUS = {"requested": "待会签", "agreed": "已同意", "returned": "已退回"}
# A letter that went out to the deputy: issued (sent), then published, or imported as sent
# elsewhere. Only these are searched, graded, shown on timelines and followed up.
SENT_LETTER_STATUSES = ("issued", "published", "imported")
# Of those, the letters that are out in public (given a public disclosure mode).
PUBLISHED_LETTER_STATUSES = ("published", "imported")

# an imported file's result (tracker.services.corpus.Outcome) and an import job's state
IMPORT_OUTCOME = {
    "imported": "已导入",
    "updated": "已更新",
    "unchanged": "未变化",
    "flagged": "待审核",
    "failed": "未导入",
}
JOB_STATUS = {"queued": "等待开始", "running": "正在导入", "done": "已完成", "failed": "已中止"}

COMMITMENT_STATUS = {
    "candidate": "待确认",
    "open": "未开始",
    "in_progress": "推进中",
    "done": "已完成",
    "overdue": "已逾期",
    "dropped": "无法落实",
    "discarded": "已舍弃",
}

# Vocabulary names an admin edits, with what they are called on screen.
VOCABULARIES = {
    "classification": "答复类别",
    "contact_channel": "沟通方式",
    "satisfaction": "满意度",
    "disclosure": "公开方式",
}
