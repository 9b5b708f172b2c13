"""Polls (``!sondage``, ``!vote``): date polls, polls on anything, and proposals
(``!proposition``, ``!position``, ``!decisions``), with native Matrix polls and text commands
for clients without them. Members' answers to the native polls are recorded by
``service.record_native``; their comments (``!commenter``, replies in a poll's thread) by
``comments``; deadlines and reminders are jobs (``jobs.py``). A new version of the cadre de
confiance is adopted by a proposal (``charter``: ``!cadre proposer``)."""

from commands.capability import Capability
from commands.polls import anything, charter, comments, jobs, native
from commands.polls.handlers import POLL_KIND, mentions, sondage, vote
from commands.polls.proposals import decisions, position, proposition
from commands.polls.service import record_native

CAPABILITY = Capability("polls", commands=(sondage, vote, proposition, position, decisions,
                                           comments.commenter, mentions),
                        consumers=(comments.record_thread_comments,),
                        poll_answers=(record_native,),
                        answer_events=dict.fromkeys(native.RESPONSE_TYPES, native.read_response),
                        jobs=jobs.JOBS,
                        at_start=jobs.AT_START, answered=jobs.ANSWERED)

__all__ = ["CAPABILITY", "POLL_KIND", "anything", "charter"]
